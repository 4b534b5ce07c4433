/* The doveadm HTTP API client: see dovecot.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "dovecot.h"

#define KEY_MAX 1024

struct ims_dove {
	char *url;    /* where requests go */
	char *socket; /* unix socket path or NULL */
	char *auth;   /* "Authorization: X-Dovecot-API <base64(key)>" */
	long timeout_ms;
};

struct ims_dove_batch {
	char *user;
	json_t *cmds;    /* [[name, params, tag], ...] */
	json_t *answers; /* after run: one entry per command, in order */
	int broken;
};

/* ------------------------------------------------------------------ setup */

/* The key from path, byte for byte (Dovecot reads the same file with
 * "doveadm_api_key = <FILE" and keeps a trailing newline too), at most
 * KEY_MAX bytes.  The file must not be readable by others (0600/0640). */
static ims_status read_key(const char *path, char *key, size_t keylen, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "[dovecot] api_key_file %s: cannot read: %s", path,
		         fd < 0 ? strerror(errno) : "not a file");
		if (fd >= 0)
			close(fd);
		return IMS_EINVAL;
	}
	if (st.st_mode & 0007) {
		snprintf(err, errlen, "[dovecot] api_key_file %s: readable by others (chmod 0600)",
		         path);
		close(fd);
		return IMS_EINVAL;
	}
	n = read(fd, key, keylen - 1);
	close(fd);
	if (n <= 0 || (size_t)n == keylen - 1 || memchr(key, '\0', (size_t)n)) {
		snprintf(err, errlen,
		         "[dovecot] api_key_file %s: empty, binary or longer than %d bytes", path,
		         KEY_MAX - 1);
		return IMS_EINVAL;
	}
	key[n] = '\0';
	return IMS_OK;
}

ims_status ims_dove_open(const struct ims_conf *conf, struct ims_dove **out, char *err,
                         size_t errlen)
{
	char key[KEY_MAX + 1],
	    b64[sodium_base64_ENCODED_LEN(KEY_MAX, sodium_base64_VARIANT_ORIGINAL)];
	struct ims_dove *d = NULL;
	ims_status rc;
	size_t alen;

	*out = NULL;
	if (!conf->dovecot_api_key_file || !*conf->dovecot_api_key_file)
		return IMS_OK;
	rc = read_key(conf->dovecot_api_key_file, key, sizeof key, err, errlen);
	if (rc != IMS_OK)
		return rc;
	sodium_bin2base64(b64, sizeof b64, (const unsigned char *)key, strlen(key),
	                  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof key);
	rc = IMS_ENOMEM;
	d = calloc(1, sizeof *d);
	alen = strlen(b64) + 64;
	if (!d || !(d->auth = malloc(alen)))
		goto out;
	snprintf(d->auth, alen, "Authorization: X-Dovecot-API %s", b64);
	if (conf->dovecot_doveadm_socket && *conf->dovecot_doveadm_socket) {
		const char *u = conf->dovecot_doveadm_url, *path = NULL;

		/* over a unix socket only the path of the URL matters */
		if (u && (path = strstr(u, "://")))
			path = strchr(path + 3, '/');
		if (!path)
			path = "/doveadm/v1";
		if (!(d->url = malloc(strlen(path) + 17)))
			goto out;
		snprintf(d->url, strlen(path) + 17, "http://localhost%s", path);
		if (!(d->socket = strdup(conf->dovecot_doveadm_socket)))
			goto out;
	} else if (!(d->url = strdup(conf->dovecot_doveadm_url))) {
		goto out;
	}
	d->timeout_ms = conf->dovecot_timeout_ms;
	*out = d;
	d = NULL;
	rc = IMS_OK;
out:
	sodium_memzero(b64, sizeof b64);
	ims_dove_free(d);
	return rc;
}

void ims_dove_free(struct ims_dove *d)
{
	if (!d)
		return;
	if (d->auth) {
		sodium_memzero(d->auth, strlen(d->auth));
		free(d->auth);
	}
	free(d->url);
	free(d->socket);
	free(d);
}

/* ---------------------------------------------------------------- batches */

struct ims_dove_batch *ims_dove_batch_new(const char *user)
{
	struct ims_dove_batch *b = calloc(1, sizeof *b);

	if (!b)
		return NULL;
	b->user = strdup(user);
	b->cmds = json_array();
	if (!b->user || !b->cmds) {
		ims_dove_batch_free(b);
		return NULL;
	}
	return b;
}

void ims_dove_batch_free(struct ims_dove_batch *b)
{
	if (!b)
		return;
	free(b->user);
	json_decref(b->cmds);
	json_decref(b->answers);
	free(b);
}

/* Parameters that would reach past the batch's user or its mailbox. */
static const char *const refused_params[] = {"allUsers", "userFile", "socketPath", "sourceUser",
                                             "sourceType"};

int ims_dove_add(struct ims_dove_batch *b, const char *name, json_t *params)
{
	char tag[16];
	json_t *cmd;
	size_t i = json_array_size(b->cmds);

	if (!params)
		params = json_object();
	for (size_t k = 0; params && k < sizeof refused_params / sizeof refused_params[0]; k++)
		if (json_object_get(params, refused_params[k])) {
			json_decref(params);
			params = NULL;
		}
	snprintf(tag, sizeof tag, "c%zu", i);
	/* the one place the user is set: always the batch's, never the caller's */
	if (!params || json_object_set_new(params, "user", json_string(b->user)) != 0 ||
	    !(cmd = json_pack("[s, O, s]", name, params, tag)) ||
	    json_array_append_new(b->cmds, cmd) != 0) {
		json_decref(params);
		b->broken = 1;
		return -1;
	}
	json_decref(params);
	return (int)i;
}

/* ------------------------------------------------------------- transport */

struct conn {
	CURL *curl;
	struct curl_slist *headers;
	const struct ims_dove *owner; /* headers were built for this one */
};

static pthread_key_t conn_key;
static pthread_once_t conn_once = PTHREAD_ONCE_INIT;

static void conn_close(void *p)
{
	struct conn *c = p;

	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	free(c);
}

static void conn_key_init(void)
{
	pthread_key_create(&conn_key, conn_close);
}

/* The calling thread's connection, made on first use. */
static struct conn *thread_conn(const struct ims_dove *d)
{
	struct conn *c;

	pthread_once(&conn_once, conn_key_init);
	c = pthread_getspecific(conn_key);
	if (c && c->owner == d)
		return c;
	conn_close(c);
	pthread_setspecific(conn_key, NULL);
	c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->curl = curl_easy_init();
	c->headers = curl_slist_append(NULL, d->auth);
	if (c->headers)
		c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
	if (!c->curl || !c->headers) {
		conn_close(c);
		return NULL;
	}
	c->owner = d;
	pthread_setspecific(conn_key, c);
	return c;
}

struct body {
	char *p;
	size_t len, cap;
	int too_big;
};

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = size * n;

	if (b->len + add > IMS_DOVE_MAX_RESPONSE) {
		b->too_big = 1;
		return 0;
	}
	if (b->len + add + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		char *p;

		while (cap < b->len + add + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap)))
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, add);
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

ims_status ims_dove_run(struct ims_dove *d, struct ims_dove_batch *b, char *err, size_t errlen)
{
	struct conn *c;
	struct body resp = {0};
	char *req = NULL, cerr[CURL_ERROR_SIZE] = "";
	json_t *ans = NULL;
	json_error_t jerr;
	long code = 0;
	CURLcode cc;
	ims_status rc = IMS_ENOMEM;

	err[0] = '\0';
	json_decref(b->answers);
	b->answers = NULL;
	if (!d) {
		snprintf(err, errlen, "no [dovecot] api_key_file configured");
		return IMS_ETEMP;
	}
	if (b->broken || !(c = thread_conn(d)))
		goto out;
	req = json_dumps(b->cmds, JSON_COMPACT);
	if (!req)
		goto out;
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, d->url);
	if (d->socket)
		curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, d->socket);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(req));
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, d->timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, cerr);
	cc = curl_easy_perform(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
	rc = IMS_ETEMP;
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "doveadm: %s",
		         resp.too_big ? "answer too big"
		         : cerr[0]    ? cerr
		                      : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		snprintf(err, errlen, "doveadm: HTTP %ld%s", code,
		         code == 401 ? " (api key refused)" : "");
		goto out;
	}
	ans = json_loadb(resp.p ? resp.p : "", resp.len, 0, &jerr);
	if (!json_is_array(ans) || json_array_size(ans) != json_array_size(b->cmds)) {
		snprintf(err, errlen, "doveadm: unexpected answer (%s)", ans ? "count" : jerr.text);
		goto out;
	}
	b->answers = ans;
	ans = NULL;
	rc = IMS_OK;
out:
	json_decref(ans);
	free(req);
	free(resp.p);
	return rc;
}

ims_status ims_dove_result(const struct ims_dove_batch *b, size_t i, json_t **rows)
{
	json_t *a = json_array_get(b->answers, i), *detail;
	const char *kind = json_string_value(json_array_get(a, 0));
	json_int_t exit_code;

	*rows = NULL;
	if (!kind)
		return IMS_ETEMP;
	if (strcmp(kind, "doveadmResponse") == 0) {
		*rows = json_array_get(a, 1);
		return json_is_array(*rows) ? IMS_OK : IMS_ETEMP;
	}
	/* ["error", {"type": "exitCode", "exitCode": N}, tag]: sysexits codes */
	detail = json_array_get(a, 1);
	exit_code = json_integer_value(json_object_get(detail, "exitCode"));
	switch (exit_code) {
	case 67: /* EX_NOUSER */
	case 68: /* EX_NOHOST: doveadm's "not found" (mailbox, message) */ return IMS_ENOTFOUND;
	case 64: /* EX_USAGE */
	case 65: /* EX_DATAERR */ return IMS_EINVAL;
	default: return IMS_ETEMP;
	}
}
