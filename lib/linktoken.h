/* Click tokens: what a rewritten link carries to ims-webapi's GET /click.
 *
 * A token is base64url (no padding) of
 *
 *     payload = version (1) | kind (1) | issued (8, Unix seconds, big end)
 *               | scan id (1-byte length, bytes) | user (2-byte length, bytes)
 *               | url (2-byte length, bytes)
 *     token   = payload | HMAC-SHA-256(key, payload)
 *
 * so it needs no lookup to be trusted: the MAC is the authority, checked in
 * constant time (libsodium).  The key is the SHA-256 of a file ([links]
 * key_file) that only the ims daemons may read; ims-milter signs,
 * ims-webapi verifies.  Every field has a hard limit, and so has the token.
 *
 * Kinds: a "click" token is the one in the message; a "continue" token is
 * what the warning page's "continue" link carries (short-lived: a warned
 * user's explicit choice, not a new link). */
#ifndef IMS_LINKTOKEN_H
#define IMS_LINKTOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define IMS_LINKTOKEN_SCAN_MAX 64
#define IMS_LINKTOKEN_USER_MAX 320
#define IMS_LINKTOKEN_URL_MAX  2048
/* The longest token text (base64url of the largest payload and MAC), NUL excluded. */
#define IMS_LINKTOKEN_MAX 3400
/* Tokens issued this far in the future (clock skew between hosts) still verify. */
#define IMS_LINKTOKEN_SKEW_S 300

struct ims_linkkey;

enum ims_linktoken_kind { IMS_LINKTOKEN_CLICK = 0, IMS_LINKTOKEN_CONTINUE = 1 };

struct ims_linktoken {
	enum ims_linktoken_kind kind;
	uint64_t issued; /* Unix seconds */
	char scan_id[IMS_LINKTOKEN_SCAN_MAX + 1];
	char user[IMS_LINKTOKEN_USER_MAX + 1]; /* "" when the message had several recipients */
	char url[IMS_LINKTOKEN_URL_MAX + 1];
};

/* Reads the key file: at most 4096 bytes, at least 32, not readable or
 * writable by others (mode 0600 or 0640).  *out is the caller's
 * (ims_linkkey_free).  IMS_EIO / IMS_EPERM / IMS_EINVAL with err set. */
ims_status ims_linkkey_load(const char *path, struct ims_linkkey **out, char *err, size_t errlen);
/* The same from n bytes of secret (tests, fuzzing); n >= 32. */
ims_status ims_linkkey_from_bytes(const void *secret, size_t n, struct ims_linkkey **out);
void ims_linkkey_free(struct ims_linkkey *k);

/* Signs t into out (NUL-terminated, at most IMS_LINKTOKEN_MAX + 1 bytes
 * needed).  IMS_ELIMIT when a field is longer than its limit or out is too
 * small; IMS_EINVAL when a field holds a NUL or a control character. */
ims_status ims_linktoken_sign(const struct ims_linkkey *k, const struct ims_linktoken *t, char *out,
                              size_t outlen);

/* Verifies len bytes of text (not NUL-terminated) at now (Unix seconds).
 * A genuine token older than lifetime_s (or issued more than
 * IMS_LINKTOKEN_SKEW_S in the future) is IMS_ELIMIT ("expired"), with
 * *out still filled so the caller can log what it was.  IMS_EINVAL for anything
 * that is not a token this key signed (malformed, altered, forged, another
 * version); *out is then zeroed. */
ims_status ims_linktoken_verify(const struct ims_linkkey *k, const char *text, size_t len,
                                uint64_t now, uint64_t lifetime_s, struct ims_linktoken *out);

#endif
