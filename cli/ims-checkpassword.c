/* ims-checkpassword: Dovecot's checkpassword passdb and userdb on the ims
 * user registry, for a registry Dovecot's dict-redis cannot reach (a Redis
 * Cluster: dict-redis talks to one server).  It reads the registry through
 * lib/users (the one place a password hash is checked) and [redis] of its
 * ims.conf, so it works wherever the other ims programs do.
 *
 *   ims-checkpassword [-c ims.conf] [--userdb] REPLY-PROGRAM [ARGS...]
 *
 * The protocol (https://cr.yp.to/checkpwd/interface.html and Dovecot's
 * extensions): "user\0password\0timestamp\0" on fd 3 (at most 512 bytes).
 * A match sets USER, HOME, userdb_uid, userdb_gid and EXTRA, then execs
 * REPLY-PROGRAM (Dovecot's checkpassword-reply).  Exit 1: wrong password,
 * no account or a disabled one; 3: no such user (lookups); 111: a
 * temporary failure (Redis down); 2: misuse.
 *
 * Dovecot sets AUTHORIZED=1 when it looks an account up without a password
 * (a userdb lookup: LMTP, doveadm; or a passdb lookup: the master-user login
 * of the submission path, pass = yes).  The answer then is AUTHORIZED=2:
 * with --userdb (the userdb entry's args) for every account, disabled ones
 * included (their mail is still delivered); without it (the passdb entry)
 * only for an enabled account, as dict-redis found no passdb record for a
 * disabled one.  With MASTER_USER set, Dovecot's master passdb (pass = yes)
 * has checked the master's password, which it passes on here in place of
 * the user's: the answer is that of a passdb lookup (an enabled account,
 * no password check).  A credentials lookup (CREDENTIALS_LOOKUP=1, a
 * non-plaintext mechanism) is refused: ims keeps argon2id hashes only. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "checkpw.h"
#include "conf.h"
#include "log.h"
#include "store.h"
#include "status.h"
#include "users.h"

#define EXIT_NOMATCH 1
#define EXIT_MISUSE  2
#define EXIT_NOUSER  3
#define EXIT_TEMP    111

static void usage(void)
{
	fprintf(stderr,
	        "usage: ims-checkpassword [-c ims.conf] [--userdb] REPLY-PROGRAM [ARGS...]\n"
	        "Dovecot's checkpassword passdb/userdb on the ims user registry;\n"
	        "reads user\\0password\\0 on fd 3 (man 8 ims-checkpassword).\n");
}

/* Reads fd 3 to its end (at most IMS_CHECKPW_INPUT_MAX bytes) and splits
 * off the user and the password (lib/checkpw.c).  false on misuse (no fd 3,
 * too long, no NULs). */
static bool read_input(char *buf, const char **user, const char **password)
{
	size_t n = 0;

	for (;;) {
		ssize_t r = read(3, buf + n, IMS_CHECKPW_INPUT_MAX + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return false;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > IMS_CHECKPW_INPUT_MAX)
			return false;
	}
	close(3);
	return ims_checkpw_parse(buf, n, user, password) == IMS_OK;
}

static bool env_set(const char *k, const char *v)
{
	if (setenv(k, v, 1) == 0)
		return true;
	fprintf(stderr, "ims-checkpassword: setenv %s: %s\n", k, strerror(errno));
	return false;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"userdb", no_argument, NULL, 'u'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *conf_path = IMS_CONF_DEFAULT_PATH, *user = NULL, *password = NULL;
	char input[IMS_CHECKPW_INPUT_MAX + 1], err[512], addr[IMS_USERS_ADDR_MAX + 1];
	bool userdb = false, authorized, master;
	struct ims_conf *conf = NULL;
	struct ims_users *u = NULL;
	struct ims_user_info info;
	struct ims_userdb db;
	struct ims_store *rc = NULL;
	ims_status st;
	int c, ret = EXIT_TEMP;

	/* "+": stop at the reply program, whose own options are its own */
	while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'u': userdb = true; break;
		case 'h': usage(); return 0;
		default: usage(); return EXIT_MISUSE;
		}
	}
	if (optind >= argc) {
		usage();
		return EXIT_MISUSE;
	}
	if (!read_input(input, &user, &password)) {
		fprintf(stderr,
		        "ims-checkpassword: no user\\0password\\0 on fd 3 (at most %d bytes)\n",
		        IMS_CHECKPW_INPUT_MAX);
		return EXIT_MISUSE;
	}
	authorized = getenv("AUTHORIZED") && strcmp(getenv("AUTHORIZED"), "1") == 0;
	master = getenv("MASTER_USER") && *getenv("MASTER_USER");
	if (getenv("CREDENTIALS_LOOKUP")) {
		fprintf(stderr,
		        "ims-checkpassword: credentials lookup (scheme %s) refused: ims keeps "
		        "argon2id hashes; allow only auth_mechanisms = plain login\n",
		        getenv("SCHEME") ? getenv("SCHEME") : "?");
		return EXIT_NOMATCH;
	}
	if (ims_conf_load(conf_path, &conf, err, sizeof err) != IMS_OK) {
		fprintf(stderr, "ims-checkpassword: %s\n", err);
		return EXIT_TEMP;
	}
	/* [log] of its ims.conf; stderr by default, which Dovecot logs */
	(void)ims_log_open("ims-checkpassword", conf->log_target, conf->log_level,
	                   conf->log_facility);
	if (sodium_init() < 0) {
		fprintf(stderr, "ims-checkpassword: libsodium failed to start\n");
		goto out;
	}
	if (ims_users_canon_address(user, conf->milter_local_domains, addr) != IMS_OK) {
		/* not an address of ours: no such account */
		ret = authorized ? EXIT_NOUSER : EXIT_NOMATCH;
		goto out;
	}
	if (ims_store_open(conf, &rc) != IMS_OK) {
		fprintf(stderr, "ims-checkpassword: out of memory\n");
		goto out;
	}
	if (ims_users_new(rc, conf, &u) != IMS_OK) {
		fprintf(stderr, "ims-checkpassword: out of memory\n");
		goto out;
	}
	if (authorized || master) {
		/* a lookup without a password: userdb, or passdb (enabled only) */
		st = ims_users_get(u, addr, &info);
		if (st == IMS_OK && !userdb && info.disabled)
			st = IMS_ENOTFOUND;
	} else {
		st = ims_users_verify(u, addr, password, &info);
	}
	if (st == IMS_OK)
		st = ims_users_userdb(u, addr, &db);
	switch (st) {
	case IMS_OK: break;
	case IMS_EPERM: ret = EXIT_NOMATCH; goto out;
	case IMS_ENOTFOUND: ret = authorized ? EXIT_NOUSER : EXIT_NOMATCH; goto out;
	case IMS_EFORMAT:
		fprintf(stderr, "ims-checkpassword: %s: the userdb record is not ims's JSON\n",
		        addr);
		goto out;
	default: fprintf(stderr, "ims-checkpassword: %s: %s\n", addr, ims_users_error(u)); goto out;
	}
	if (!env_set("USER", addr) || !env_set("HOME", db.home) || !env_set("userdb_uid", db.uid) ||
	    !env_set("userdb_gid", db.gid) || !env_set("EXTRA", "userdb_uid userdb_gid") ||
	    (authorized && !env_set("AUTHORIZED", "2")))
		goto out;
	sodium_memzero(input, sizeof input);
	ims_users_free(u);
	ims_store_free(rc);
	if (conf)
		ims_conf_unref(conf);
	execv(argv[optind], argv + optind);
	fprintf(stderr, "ims-checkpassword: %s: %s\n", argv[optind], strerror(errno));
	return EXIT_TEMP;
out:
	sodium_memzero(input, sizeof input);
	ims_users_free(u);
	if (rc)
		ims_store_free(rc);
	if (conf)
		ims_conf_unref(conf);
	return ret;
}
