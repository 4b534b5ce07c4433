/* The user registry: one account per address, in Redis, laid out so that
 * Dovecot's dict passdb/userdb reads it as it is (docs/redis-schema.md):
 *
 *   ims:{ADDR}:passdb  {"password":"{ARGON2ID}$argon2id$v=19$m=..."}
 *                      (absent while the account is disabled)
 *   ims:{ADDR}:userdb  {"uid":"5000","gid":"5000","home":"/var/mail/ims/dom/local"}
 *   ims:{ADDR}:user    hash: role, created (ms), disabled (0/1), and
 *                      passdb_disabled (the passdb record, while disabled)
 *   ims:{global}:users sorted set of addresses by creation time
 *   ims:{ADDR}:aliases set of the other addresses ADDR may send as
 *   ims:{global}:aliases hash alias -> the account that owns it
 *
 * Passwords are argon2id hashes made by libsodium's crypto_pwhash_str
 * (opslimit and memlimit below), which Dovecot verifies with its ARGON2ID
 * scheme.  Addresses are lower-cased and must be in [milter] local_domains.
 *
 * A handle borrows the store (lib/store.h) and the config; it is not
 * thread-safe (one per thread or request; the store is shared). */
#ifndef IMS_USERS_H
#define IMS_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "status.h"

struct ims_store;

#define IMS_USERS_ADDR_MAX     254 /* RFC 5321 path limit, without <> */
#define IMS_USERS_PASSWORD_MIN 8
#define IMS_USERS_PASSWORD_MAX 1024

/* argon2id cost: libsodium's "interactive" preset (t=2, m=64 MiB, p=1).
 * docs/benchmarks.md has the measured time per hash on this machine. */
#define IMS_USERS_OPSLIMIT 2ULL
#define IMS_USERS_MEMLIMIT (64ULL * 1024 * 1024)

enum ims_role { IMS_ROLE_USER = 0, IMS_ROLE_ADMIN = 1 };

struct ims_user_info {
	char address[IMS_USERS_ADDR_MAX + 1];
	enum ims_role role;
	uint64_t created_ms;
	bool disabled;
};

struct ims_users;

/* A handle on the registry.  st and conf are borrowed and must outlive the
 * handle.  The caller owns *out (ims_users_free). */
ims_status ims_users_new(struct ims_store *st, const struct ims_conf *conf, struct ims_users **out);
void ims_users_free(struct ims_users *u);

/* The store's words for the last failure of u (which settings to look at
 * when Redis refused us), or a generic text. */
const char *ims_users_error(const struct ims_users *u);

/* Checks an address and writes its canonical (lower-case) form to out
 * (IMS_USERS_ADDR_MAX + 1 bytes).  IMS_EINVAL when it is not a plain
 * local@domain of [a-z0-9._+-] and a dotted domain, IMS_EPERM when the
 * domain is not one of local_domains (NULL-terminated; NULL or empty
 * allows none). */
ims_status ims_users_canon_address(const char *addr, char *const *local_domains, char *out);

/* Role names "user"/"admin"; ims_role_parse returns -1 when unknown. */
const char *ims_role_name(enum ims_role r);
int ims_role_parse(const char *s);

/* Creates an account.  IMS_EEXIST when it exists, IMS_EINVAL/IMS_EPERM for
 * a bad address, IMS_EINVAL for a password outside
 * [IMS_USERS_PASSWORD_MIN, IMS_USERS_PASSWORD_MAX] bytes, IMS_ETEMP when
 * Redis failed.  The account's three keys are written in one transaction
 * (and only if none exists); the global list after it. */
ims_status ims_users_create(struct ims_users *u, const char *addr, const char *password,
                            enum ims_role role);

/* Deletes the account's keys (mail is left to retention).  IMS_ENOTFOUND
 * when there is no such account. */
ims_status ims_users_delete(struct ims_users *u, const char *addr);

/* Sets a new password (keeps the disabled state: a disabled account gets
 * the new password when it is enabled). */
ims_status ims_users_set_password(struct ims_users *u, const char *addr, const char *password);

/* Changes the role / the disabled flag.  A disabled account's passdb record
 * is taken away (kept in the user hash until it is enabled), so every
 * Dovecot authentication path refuses it: IMAP, the SASL socket Postfix
 * submission asks, and master-user logins. */
ims_status ims_users_set_role(struct ims_users *u, const char *addr, enum ims_role role);
ims_status ims_users_set_disabled(struct ims_users *u, const char *addr, bool disabled);

/* Reads an account into *info.  IMS_ENOTFOUND when there is none. */
ims_status ims_users_get(struct ims_users *u, const char *addr, struct ims_user_info *info);

/* Dovecot's userdb fields of an account, from its ims:{ADDR}:userdb
 * record (kept while the account is disabled: mail is still delivered). */
struct ims_userdb {
	char uid[16];
	char gid[16];
	char home[1024];
};

/* Reads addr's userdb record into *out (ims-checkpassword's userdb
 * answer).  IMS_ENOTFOUND when there is no account, IMS_EFORMAT when the
 * record is not {"uid","gid","home"} strings that fit, IMS_ETEMP when
 * Redis failed. */
ims_status ims_users_userdb(struct ims_users *u, const char *addr, struct ims_userdb *out);

/* Verifies a password.  IMS_OK and *info filled when it matches and the
 * account is enabled; IMS_EPERM when the password is wrong, the account
 * does not exist or is disabled (a missing account costs the same hash
 * time as a wrong password); IMS_ETEMP when Redis failed. */
ims_status ims_users_verify(struct ims_users *u, const char *addr, const char *password,
                            struct ims_user_info *info);

/* Lists accounts in creation order, at most limit of them, starting after
 * the address `after` (NULL: from the start).  Calls fn for each; stops
 * early when fn returns non-zero.  *more is set when there are more.
 * IMS_EINVAL when `after` is no longer an account (deleted meanwhile). */
ims_status ims_users_list(struct ims_users *u, const char *after, size_t limit,
                          int (*fn)(const struct ims_user_info *info, void *arg), void *arg,
                          bool *more);

/* Sender aliases: other addresses of local_domains an account may send
 * as (Postfix's smtpd_sender_login_maps and ims-milter's DKIM signing
 * follow them; they route no mail).  An alias has one owner and is not an
 * account itself.
 *
 * alias_add: IMS_ENOTFOUND when addr is no account, IMS_EEXIST when alias
 * is an account or another account's alias, IMS_EINVAL/IMS_EPERM for a bad
 * alias (or alias == addr).  Adding an alias the account has is IMS_OK.
 * alias_del: IMS_ENOTFOUND when alias is not one of addr's.
 * alias_list: fn(alias, owner) for each alias of addr, or of every account
 * when addr is NULL (in no particular order); stops when fn returns
 * non-zero.  IMS_ETEMP when Redis failed. */
ims_status ims_users_alias_add(struct ims_users *u, const char *addr, const char *alias);
ims_status ims_users_alias_del(struct ims_users *u, const char *addr, const char *alias);
ims_status ims_users_alias_list(struct ims_users *u, const char *addr,
                                int (*fn)(const char *alias, const char *owner, void *arg),
                                void *arg);

/* Whether the authenticated login may send as addr: addr is the login
 * itself (case-insensitive) or one of its aliases.  Asks through st (the
 * daemons' pooled store); *ok is false for an unknown login.  IMS_ETEMP
 * when Redis failed. */
struct ims_store;
ims_status ims_users_may_send_as(struct ims_store *st, const char *login, const char *addr,
                                 bool *ok);

/* Whether addr is an account Dovecot delivers to (its userdb record is
 * there; a disabled account still receives mail).  Sender aliases are not:
 * they route no mail.  Asks through st; *known is false for a malformed or
 * over-long address.  IMS_ETEMP when Redis failed (the caller must then
 * tempfail, never accept and bounce). */
ims_status ims_users_is_recipient(struct ims_store *st, const char *addr, bool *known);

/* Hashes a password into out (crypto_pwhash_STRBYTES + 11 bytes:
 * "{ARGON2ID}" and the libsodium string).  IMS_ENOMEM when libsodium could
 * not get the memory. */
ims_status ims_users_hash_password(const char *password, char *out, size_t outlen);

#endif
