/* ims user add|del|passwd|list|role|disable|enable|alias: the user registry
 * (lib/users.h) from the command line.  Every change is also an admin event
 * in ims:{global}:events, with actor "cli:<login name>".  See man/ims.1. */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "events.h"
#include "ims.h"
#include "sessions.h"
#include "store.h"
#include "users.h"

static void help(void)
{
	printf("usage: ims user add [--role user|admin] [--password-file FILE] ADDRESS\n"
	       "       ims user passwd [--password-file FILE] ADDRESS\n"
	       "       ims user del ADDRESS\n"
	       "       ims user role ADDRESS user|admin\n"
	       "       ims user disable|enable ADDRESS\n"
	       "       ims user list [--json]\n"
	       "       ims user alias add|del ADDRESS ALIAS\n"
	       "       ims user alias list [ADDRESS]\n\n"
	       "Manages the accounts that log in to the web API, IMAP and SMTP submission.\n"
	       "The password is read from --password-file, else from standard input (the\n"
	       "first line; asked for without echo on a terminal).  Addresses must be in\n"
	       "[milter] local_domains.  An alias is another address an account may send\n"
	       "as; 'alias list' prints \"ALIAS OWNER\" lines, a Postfix lookup table source\n"
	       "for smtpd_sender_login_maps (postmap).\n");
}

/* Reads one line into buf (no newline); asks without echo on a tty. */
static int read_password(const char *file, char *buf, size_t len)
{
	FILE *f = stdin;
	struct termios old, quiet;
	int tty = !file && isatty(STDIN_FILENO);

	if (file && !(f = fopen(file, "r")))
		return -1;
	if (tty) {
		fputs("Password: ", stderr);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (file)
		fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static void audit(struct ims_store *st, const char *op, const char *target, const char *extra_k,
                  const char *extra_v)
{
	const char *kv[] = {extra_k ? extra_k : "via", extra_v ? extra_v : "ims user"};
	char actor[128];

	ims_events_cli_actor(actor, sizeof actor);
	(void)ims_events_audit(st, actor, op, target, kv, 1, NULL);
}

static int status_error(ims_status st, const char *addr)
{
	switch (st) {
	case IMS_EEXIST: return ims_cli_error("%s: the account exists", addr);
	case IMS_ENOTFOUND: return ims_cli_error("%s: no such account", addr);
	case IMS_EPERM:
		return ims_cli_error("%s: the domain is not in [milter] local_domains", addr);
	case IMS_EINVAL:
		return ims_cli_error("%s: bad address, or a password outside %d..%d bytes", addr,
		                     IMS_USERS_PASSWORD_MIN, IMS_USERS_PASSWORD_MAX);
	default: return ims_cli_error("%s: %s", addr, ims_strstatus(st));
	}
}

static int print_alias(const char *alias, const char *owner, void *arg)
{
	(void)arg;
	printf("%s %s\n", alias, owner);
	return 0;
}

/* ims user alias add|del ADDRESS ALIAS, ims user alias list [ADDRESS]. */
static int alias_cmd(struct ims_store *rc, struct ims_users *u, int argc, char **argv)
{
	const char *op = argc > 0 ? argv[0] : "";
	ims_status st;

	if (strcmp(op, "list") == 0 && argc <= 2) {
		st = ims_users_alias_list(u, argc == 2 ? argv[1] : NULL, print_alias, NULL);
		if (st == IMS_ENOTFOUND)
			return ims_cli_error("%s: bad address", argv[1]);
		if (st != IMS_OK)
			return ims_cli_error("listing failed: %s", ims_strstatus(st));
		return IMS_EXIT_OK;
	}
	if ((strcmp(op, "add") != 0 && strcmp(op, "del") != 0) || argc != 3)
		return ims_cli_usage_error("user", "usage: ims user alias add|del ADDRESS ALIAS, "
		                                   "ims user alias list [ADDRESS]");
	if (strcmp(op, "add") == 0) {
		st = ims_users_alias_add(u, argv[1], argv[2]);
		switch (st) {
		case IMS_OK: break;
		case IMS_ENOTFOUND: return ims_cli_error("%s: no such account", argv[1]);
		case IMS_EEXIST:
			return ims_cli_error("%s: an account, or another account's alias", argv[2]);
		case IMS_EPERM:
			return ims_cli_error("%s: the domain is not in [milter] local_domains",
			                     argv[2]);
		case IMS_EINVAL:
			return ims_cli_error("%s: bad address, or the account itself", argv[2]);
		default: return ims_cli_error("%s: %s", argv[2], ims_strstatus(st));
		}
	} else {
		st = ims_users_alias_del(u, argv[1], argv[2]);
		if (st == IMS_ENOTFOUND)
			return ims_cli_error("%s: not an alias of %s", argv[2], argv[1]);
		if (st != IMS_OK)
			return ims_cli_error("%s: %s", argv[2], ims_strstatus(st));
	}
	{
		char canon[IMS_USERS_ADDR_MAX + 1], alias[IMS_USERS_ADDR_MAX + 1];

		snprintf(canon, sizeof canon, "%s", argv[1]);
		snprintf(alias, sizeof alias, "%s", argv[2]);
		for (char *p = canon; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		for (char *p = alias; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		audit(rc, strcmp(op, "add") == 0 ? "user.alias.add" : "user.alias.del", canon,
		      "alias", alias);
	}
	return IMS_EXIT_OK;
}

struct list_out {
	int json;
	char last[IMS_USERS_ADDR_MAX + 1];
};

static int print_user(const struct ims_user_info *in, void *arg)
{
	struct list_out *o = arg;

	if (o->json)
		printf("{\"address\":\"%s\",\"role\":\"%s\",\"created\":%" PRIu64
		       ",\"disabled\":%s}\n",
		       in->address, ims_role_name(in->role), in->created_ms,
		       in->disabled ? "true" : "false");
	else
		printf("%-40s %-6s %s\n", in->address, ims_role_name(in->role),
		       in->disabled ? "disabled" : "");
	snprintf(o->last, sizeof o->last, "%s", in->address);
	return 0;
}

int ims_cmd_user(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"role", required_argument, NULL, 'r'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct ims_conf *conf;
	const char *sub, *role = "user", *pwfile = NULL;
	char password[IMS_USERS_PASSWORD_MAX + 2];
	struct ims_store *rc;
	struct ims_users *u = NULL;
	int c, json = 0, ret = IMS_EXIT_ERROR, nargs;
	ims_status st;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'h') {
			help();
			return IMS_EXIT_OK;
		}
		return ims_cli_usage_error("user", "bad option");
	}
	if (optind >= argc)
		return ims_cli_usage_error("user", "missing subcommand");
	sub = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': role = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'j': json = 1; break;
		case 'h': help(); return IMS_EXIT_OK;
		default: return ims_cli_usage_error("user", "bad option");
		}
	}
	nargs = argc - optind;
	if (strcmp(sub, "alias") != 0 &&
	    (strcmp(sub, "list") == 0   ? nargs != 0
	     : strcmp(sub, "role") == 0 ? nargs != 2
	     : strcmp(sub, "add") == 0 || strcmp(sub, "del") == 0 || strcmp(sub, "passwd") == 0 ||
	             strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0
	         ? nargs != 1
	         : 1))
		return ims_cli_usage_error("user", "usage: see 'ims user --help'");
	if (ims_role_parse(role) < 0)
		return ims_cli_usage_error("user", "--role must be user or admin");
	if (!(conf = ims_cli_conf(cli)))
		return IMS_EXIT_ERROR;
	if (sodium_init() < 0)
		return ims_cli_error("libsodium failed to start");
	if (!(rc = ims_cli_store(cli, "user")))
		return IMS_EXIT_ERROR;
	if (ims_users_new(rc, conf, &u) != IMS_OK) {
		ims_cli_error("out of memory");
		goto out;
	}
	if (strcmp(sub, "alias") == 0) {
		ret = alias_cmd(rc, u, nargs, argv + optind);
		goto out;
	}
	if (strcmp(sub, "list") == 0) {
		struct list_out o = {json, ""};
		bool more = true;

		while (more) { /* pages of 500 */
			st = ims_users_list(u, o.last[0] ? o.last : NULL, 500, print_user, &o,
			                    &more);
			if (st != IMS_OK) {
				ims_cli_error("listing failed: %s", ims_strstatus(st));
				goto out;
			}
		}
		ret = IMS_EXIT_OK;
		goto out;
	}
	{
		const char *addr = argv[optind];
		char canon[IMS_USERS_ADDR_MAX + 1];

		st = ims_users_canon_address(addr, conf->milter_local_domains, canon);
		if (st != IMS_OK) {
			ret = status_error(st, addr);
			goto out;
		}
		if (strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0) {
			if (read_password(pwfile, password, sizeof password) != 0) {
				ret = ims_cli_error("%s: cannot read", pwfile);
				goto out;
			}
			st = strcmp(sub, "add") == 0
			         ? ims_users_create(u, canon, password,
			                            (enum ims_role)ims_role_parse(role))
			         : ims_users_set_password(u, canon, password);
			sodium_memzero(password, sizeof password);
			/* a new password ends the web sessions of the old one */
			if (st == IMS_OK && strcmp(sub, "passwd") == 0)
				st = ims_sessions_end_all(rc, canon, NULL);
			if (st == IMS_OK)
				audit(rc, strcmp(sub, "add") == 0 ? "user.create" : "user.passwd",
				      canon, "role", strcmp(sub, "add") == 0 ? role : NULL);
		} else if (strcmp(sub, "del") == 0) {
			st = ims_users_delete(u, canon);
			if (st == IMS_OK)
				audit(rc, "user.delete", canon, NULL, NULL);
		} else if (strcmp(sub, "role") == 0) {
			int r = ims_role_parse(argv[optind + 1]);

			if (r < 0) {
				ret = ims_cli_usage_error("user", "the role is user or admin");
				goto out;
			}
			st = ims_users_set_role(u, canon, (enum ims_role)r);
			if (st == IMS_OK)
				audit(rc, "user.role", canon, "role", argv[optind + 1]);
		} else {
			int off = strcmp(sub, "disable") == 0;

			st = ims_users_set_disabled(u, canon, off);
			if (st == IMS_OK && off)
				st = ims_sessions_end_all(rc, canon, NULL);
			if (st == IMS_OK)
				audit(rc, off ? "user.disable" : "user.enable", canon, NULL, NULL);
		}
		if (st != IMS_OK) {
			ret = status_error(st, canon);
			goto out;
		}
		ret = IMS_EXIT_OK;
	}
out:
	ims_users_free(u);
	return ret;
}
