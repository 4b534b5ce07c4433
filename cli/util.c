/* Helpers shared by the subcommands of `ims`: errors, config, model,
 * reading files and folders.  See ims.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "featurize.h"
#include "ims.h"
#include "log.h"
#include "message.h"
#include "store.h"
#include "storecheck.h"
#include "train.h"

int ims_cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ims: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return IMS_EXIT_ERROR;
}

int ims_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ims%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ims%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	return IMS_EXIT_USAGE;
}

const struct ims_conf *ims_cli_conf(struct ims_cli *cli)
{
	char err[512] = "";
	ims_status st;

	if (cli->conf)
		return cli->conf;
	if (cli->conf_path) {
		st = ims_conf_load(cli->conf_path, &cli->conf, err, sizeof err);
	} else if (access(IMS_CONF_DEFAULT_PATH, F_OK) == 0) {
		st = ims_conf_load(IMS_CONF_DEFAULT_PATH, &cli->conf, err, sizeof err);
	} else {
		st = ims_conf_defaults(&cli->conf); /* no default file: defaults, silently */
	}
	if (st != IMS_OK) {
		cli->conf = NULL;
		ims_cli_error("%s", err[0] ? err : ims_strstatus(st));
		return NULL;
	}
	return cli->conf;
}

struct ims_model *ims_cli_model(struct ims_cli *cli)
{
	const char *path = cli->model_path;
	struct ims_model *m = NULL;
	char err[512] = "";

	if (!path) {
		const struct ims_conf *c = ims_cli_conf(cli);

		if (!c)
			return NULL;
		path = c->classifier_model;
	}
	if (!path || !*path) {
		ims_cli_error("no model: give --model FILE or set [classifier] model");
		return NULL;
	}
	if (ims_model_load(path, &m, err, sizeof err) != IMS_OK) {
		ims_cli_error("%s", err);
		return NULL;
	}
	return m;
}

struct ims_store *ims_cli_store_err(struct ims_cli *cli, char *err, size_t errlen)
{
	const struct ims_conf *conf;

	if (cli->store)
		return cli->store;
	if (!(conf = ims_cli_conf(cli))) {
		snprintf(err, errlen, "no configuration");
		return NULL;
	}
	if (ims_store_open(conf, &cli->store) != IMS_OK) {
		snprintf(err, errlen, "cannot set up the Redis store ([redis])");
		return NULL;
	}
	/* a command prints the store's errors as its own one line */
	ims_store_set_quiet(cli->store, true);
	if (ims_storecheck(cli->store, err, errlen) != IMS_OK) {
		ims_store_free(cli->store);
		cli->store = NULL;
	}
	return cli->store;
}

struct ims_store *ims_cli_store(struct ims_cli *cli, const char *what)
{
	char err[512];
	struct ims_store *st = ims_cli_store_err(cli, err, sizeof err);

	if (!st)
		ims_cli_error("%s: %s", what, err);
	return st;
}

void ims_cli_done(struct ims_cli *cli)
{
	ims_store_free(cli->store);
	cli->store = NULL;
	if (cli->conf)
		ims_conf_unref(cli->conf);
	cli->conf = NULL;
}

ims_status ims_cli_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	struct stat sb;
	char *b = NULL;
	ims_status rc = IMS_ENOMEM;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return errno == ENOENT ? IMS_ENOTFOUND : IMS_EIO;
	if (fstat(fd, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			errno = EISDIR;
			rc = IMS_EIO;
			goto out;
		}
		if (S_ISREG(sb.st_mode))
			cap = (size_t)sb.st_size + 1; /* one more byte to see EOF */
	}
	if (cap > max + 1)
		cap = max + 1;
	b = malloc(cap + 1);
	if (!b)
		goto out;
	for (;;) {
		ssize_t got = read(fd, b + n, cap - n);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = IMS_EIO;
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > max) {
			rc = IMS_ELIMIT;
			goto out;
		}
		if (n == cap) {
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = realloc(b, ncap + 1);

			if (!nb)
				goto out;
			b = nb;
			cap = ncap;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = IMS_OK;
out:
	free(b);
	if (fd != STDIN_FILENO) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

ims_status ims_cli_list_dir(const char *dir, char ***files, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t start = *n, cap = *n;
	ims_status rc = IMS_ENOMEM;

	if (!d)
		return errno == ENOENT ? IMS_ENOTFOUND : IMS_EIO;
	while ((e = readdir(d))) {
		struct stat sb;
		char *p;
		size_t plen;

		if (e->d_name[0] == '.')
			continue;
		plen = strlen(dir) + strlen(e->d_name) + 2;
		p = malloc(plen);
		if (!p)
			goto out;
		snprintf(p, plen, "%s/%s", dir, e->d_name);
		if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			free(p);
			continue;
		}
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			char **nf = realloc(*files, ncap * sizeof *nf);

			if (!nf) {
				free(p);
				goto out;
			}
			*files = nf;
			cap = ncap;
		}
		(*files)[(*n)++] = p;
	}
	if (*n > start)
		qsort(*files + start, *n - start, sizeof **files, cmp_str);
	rc = IMS_OK;
out:
	closedir(d);
	return rc;
}

void ims_cli_free_list(char **files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
}

ims_status ims_cli_dataset_add_message(struct ims_dataset *ds, const struct ims_feature_opts *fo,
                                       const char *buf, size_t len, int label)
{
	struct ims_parsed *p;
	struct ims_fvec x;
	ims_status st = ims_parse_message(buf, len, &p);

	if (st != IMS_OK)
		return st;
	st = ims_features_extract(p, fo, &x);
	ims_parsed_free(p);
	if (st == IMS_OK)
		st = ims_dataset_add(ds, &x, label);
	return st;
}

int ims_cli_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return 0;
	*out = v;
	return 1;
}

int ims_cli_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return 0;
	*out = v;
	return 1;
}
