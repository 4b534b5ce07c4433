#include "config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intel.h"
#include "urls.h"
#include "log.h"
#include "netaddr.h"

#define MAX_FILES 256
#define SIG_MAX   (MAX_FILES * 96)

/* The entries of one action (allow or block): "K|entry" -> list name,
 * K being N (network), D (domain), U (URL) or H (hash). */
struct table {
	GHashTable *map;
	unsigned char v4_bits[33], v6_bits[129]; /* prefix lengths present */
	size_t hashes;
};

struct ims_intel_set {
	int refs;          /* atomic */
	struct table t[2]; /* [0] block, [1] allow */
	char **names;      /* list names, owned */
	size_t nnames, size;
};

struct ims_intel {
	char *dir;
	int max_entries;
	pthread_mutex_t lock;   /* guards cur */
	pthread_mutex_t reload; /* one checker at a time */
	struct ims_intel_set *cur;
	char sig[SIG_MAX];     /* of the files cur was loaded from */
	char new_sig[SIG_MAX]; /* of the files the loader thread is reading */
	long long next_check_ms;
	/* under reload: a loader thread runs (loading) or has not been joined */
	int loading, loader_started;
	pthread_t loader;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int is_hex64(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");

	return n == 64 && s[64] == '\0';
}

/* A host name: LDH labels (and '_'), no empty label; lower-cased. */
static int domain_norm(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in), label = 0;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || n >= outlen)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		           c == '_') {
			label++;
		} else if (c >= 'A' && c <= 'Z') {
			c = (char)(c + 32);
			label++;
		} else {
			return -1;
		}
		if (label > 63)
			return -1;
		out[i] = c;
	}
	out[n] = '\0';
	return label > 0 ? 0 : -1;
}

ims_status ims_intel_url_norm(const char *url, char *out, size_t outlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	const char *hp;
	struct ims_url_host uh;
	ims_status rc = IMS_EINVAL;
	int n;

	if (!u)
		return IMS_ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		goto out;
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	for (char *p = scheme; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	for (char *p = host; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	hp = host;
	/* the host as every other check sees it (lib/urls.h: IDNA, userinfo,
	 * percent-decoding), so a list entry and a link agree on it */
	if (ims_url_host(url, strlen(url), &uh) == IMS_OK && !(uh.flags & IMS_URL_IP))
		hp = uh.host;
	n = snprintf(out, outlen, "%s://%s%s%s%s%s%s", scheme, hp, port ? ":" : "",
	             port ? port : "", path && *path ? path : "/", query ? "?" : "",
	             query ? query : "");
	rc = n < 0 || (size_t)n >= outlen ? IMS_ELIMIT : IMS_OK;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return rc;
}

static void cidr_key(int family, const unsigned char *addr, int bits, char *out, size_t outlen)
{
	unsigned char a[16] = {0};
	char text[INET6_ADDRSTRLEN];
	int len = family == AF_INET ? 4 : 16;

	for (int i = 0; i < len; i++) {
		int keep = bits - i * 8;

		a[i] = keep >= 8   ? addr[i]
		       : keep <= 0 ? 0
		                   : (unsigned char)(addr[i] & (0xff << (8 - keep)));
	}
	inet_ntop(family, a, text, sizeof text);
	snprintf(out, outlen, "N|%s/%d", text, bits);
}

ims_status ims_intel_parse_line(const char *line, enum ims_intel_kind *kind, char *norm,
                                size_t normlen, char *why, size_t whylen)
{
	char buf[IMS_INTEL_ENTRY_MAX + 1], *v, *hash;
	struct ims_cidr c;
	char cwhy[128];

	if (strlen(line) > IMS_INTEL_ENTRY_MAX) {
		snprintf(why, whylen, "longer than %d characters", IMS_INTEL_ENTRY_MAX);
		return IMS_EINVAL;
	}
	snprintf(buf, sizeof buf, "%s", line);
	v = trim(buf);
	if (*v == '#' || !*v)
		return IMS_ENOTFOUND;
	/* " #" starts a comment after the entry */
	for (hash = strchr(v, '#'); hash; hash = strchr(hash + 1, '#'))
		if (hash[-1] == ' ' || hash[-1] == '\t') {
			*hash = '\0';
			v = trim(v);
			break;
		}
	if (strncasecmp(v, "sha256:", 7) == 0 || is_hex64(v)) {
		const char *h = v[6] == ':' ? v + 7 : v;

		if (!is_hex64(h) || normlen < 65)
			goto bad;
		for (int i = 0; i <= 64; i++)
			norm[i] = (char)(h[i] >= 'A' && h[i] <= 'F' ? h[i] + 32 : h[i]);
		*kind = IMS_INTEL_SHA256;
		return IMS_OK;
	}
	if (strstr(v, "://")) {
		if (ims_intel_url_norm(v, norm, normlen) != IMS_OK)
			goto bad;
		*kind = IMS_INTEL_URL;
		return IMS_OK;
	}
	if (strchr(v, ':') || strspn(v, "0123456789./") == strlen(v)) {
		if (ims_cidr_parse(v, &c, cwhy, sizeof cwhy) != IMS_OK) {
			snprintf(why, whylen, "%s", cwhy);
			return IMS_EINVAL;
		}
		cidr_key(c.family, c.addr, c.bits, buf, sizeof buf);
		snprintf(norm, normlen, "%s", buf + 2);
		*kind = IMS_INTEL_NET;
		return IMS_OK;
	}
	if (strncmp(v, "*.", 2) == 0)
		v += 2;
	if (domain_norm(v, norm, normlen) == 0) {
		*kind = IMS_INTEL_DOMAIN;
		return IMS_OK;
	}
bad:
	snprintf(why, whylen, "'%.80s' is not an address, network, domain, URL or sha256", v);
	return IMS_EINVAL;
}

static void set_free(struct ims_intel_set *s)
{
	if (!s)
		return;
	for (int i = 0; i < 2; i++)
		if (s->t[i].map)
			g_hash_table_destroy(s->t[i].map);
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	free(s);
}

struct ims_intel_set *ims_intel_set_ref(struct ims_intel_set *s)
{
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void ims_intel_set_unref(struct ims_intel_set *s)
{
	if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		set_free(s);
}

size_t ims_intel_set_size(const struct ims_intel_set *s)
{
	return s ? s->size : 0;
}

static struct ims_intel_set *set_new(void)
{
	struct ims_intel_set *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->refs = 1;
	for (int i = 0; i < 2; i++)
		s->t[i].map = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	return s;
}

/* A list file's name and action: "NAME.block" / "NAME.allow". */
static int list_file(const char *fname, char *name, size_t namelen, int *allow)
{
	size_t n = strlen(fname);

	if (fname[0] == '.' || n <= 6 || n - 6 >= namelen)
		return 0;
	if (strcmp(fname + n - 6, ".block") == 0)
		*allow = 0;
	else if (strcmp(fname + n - 6, ".allow") == 0)
		*allow = 1;
	else
		return 0;
	memcpy(name, fname, n - 6);
	name[n - 6] = '\0';
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The list files of dir, sorted (the caller frees them and the array). */
static ims_status list_dir(const char *dir, char ***out, size_t *n, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return IMS_EIO;
	}
	if (!(v = calloc(MAX_FILES + 1, sizeof *v))) {
		closedir(d);
		return IMS_ENOMEM;
	}
	while ((e = readdir(d)) && k < MAX_FILES) {
		char name[256];
		int allow;

		if (list_file(e->d_name, name, sizeof name, &allow) &&
		    !(v[k++] = strdup(e->d_name)))
			break;
	}
	closedir(d);
	qsort(v, k, sizeof *v, cmp_str);
	*out = v;
	*n = k;
	return IMS_OK;
}

/* What changes when a list file is added, removed or replaced. */
static void signature(const char *dir, char *sig, size_t siglen)
{
	char **files = NULL, err[256];
	size_t n = 0, at = 0;

	sig[0] = '\0';
	if (list_dir(dir, &files, &n, err, sizeof err) != IMS_OK) {
		snprintf(sig, siglen, "error");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		int w;

		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		if (stat(path, &st) != 0)
			memset(&st, 0, sizeof st);
		w = snprintf(sig + at, siglen - at, "%s:%lu:%lld:%lld.%ld;", files[i],
		             (unsigned long)st.st_ino, (long long)st.st_size,
		             (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		if (w < 0 || (size_t)w >= siglen - at)
			break;
		at += (size_t)w;
		free(files[i]);
		files[i] = NULL;
	}
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
}

static void add_entry(struct ims_intel_set *s, int allow, enum ims_intel_kind kind,
                      const char *norm, const char *list)
{
	static const char kc[] = {'N', 'D', 'U', 'H'};
	struct table *t = &s->t[allow];
	size_t n = strlen(norm);
	char *key = malloc(n + 3);

	if (!key)
		return;
	key[0] = kc[kind];
	key[1] = '|';
	memcpy(key + 2, norm, n + 1);
	if (g_hash_table_contains(t->map, key)) {
		free(key);
		return;
	}
	g_hash_table_insert(t->map, key, (gpointer)list);
	s->size++;
	if (kind == IMS_INTEL_SHA256)
		t->hashes++;
	if (kind == IMS_INTEL_NET) {
		const char *slash = strrchr(norm, '/');
		int bits = (int)strtol(slash + 1, NULL, 10); /* written by cidr_key */

		if (strchr(norm, ':'))
			t->v6_bits[bits] = 1;
		else
			t->v4_bits[bits] = 1;
	}
}

static void load_file(struct ims_intel_set *s, const char *dir, const char *fname,
                      size_t max_entries)
{
	char path[4096], list[256], line[IMS_INTEL_ENTRY_MAX + 2], norm[IMS_INTEL_ENTRY_MAX + 1];
	char why[160];
	int allow, lineno = 0, bad = 0, dropped = 0;
	enum ims_intel_kind kind;
	FILE *f;
	char *name;

	if (!list_file(fname, list, sizeof list, &allow))
		return;
	snprintf(path, sizeof path, "%s/%s", dir, fname);
	if (!(f = fopen(path, "r"))) {
		ims_log_warn(NULL, "event=intel_list path=%s error=\"%s\"", path, strerror(errno));
		return;
	}
	if (!(name = strdup(list))) {
		fclose(f);
		return;
	}
	s->names[s->nnames++] = name;
	while (fgets(line, sizeof line, f)) {
		size_t n = strlen(line);

		lineno++;
		if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			ims_log_warn(NULL,
			             "event=intel_bad_line path=%s line=%d error=\"longer than %d "
			             "characters\"",
			             path, lineno, IMS_INTEL_ENTRY_MAX);
			bad++;
			continue;
		}
		switch (ims_intel_parse_line(line, &kind, norm, sizeof norm, why, sizeof why)) {
		case IMS_OK:
			if (s->size >= max_entries) {
				dropped++;
				break;
			}
			add_entry(s, allow, kind, norm, name);
			break;
		case IMS_ENOTFOUND: break;
		default:
			if (bad++ < 10)
				ims_log_warn(NULL,
				             "event=intel_bad_line path=%s line=%d error=\"%s\"",
				             path, lineno, why);
			break;
		}
	}
	fclose(f);
	if (bad || dropped)
		ims_log_warn(NULL,
		             "event=intel_list path=%s bad_lines=%d dropped=%d max_entries=%zu",
		             path, bad, dropped, max_entries);
}

ims_status ims_intel_load(const char *dir, int max_entries, struct ims_intel_set **out, char *err,
                          size_t errlen)
{
	struct ims_intel_set *s;
	char **files = NULL;
	size_t n = 0;
	ims_status rc;

	*out = NULL;
	if (!(s = set_new()))
		return IMS_ENOMEM;
	rc = list_dir(dir, &files, &n, err, errlen);
	if (rc != IMS_OK) {
		set_free(s);
		return rc;
	}
	if (!(s->names = calloc(n + 1, sizeof *s->names))) {
		rc = IMS_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		load_file(s, dir, files[i], max_entries > 0 ? (size_t)max_entries : 0);
	*out = s;
	s = NULL;
out:
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	set_free(s);
	return rc;
}

static int lookup(const struct table *t, const char *key, struct ims_intel_hit *hit)
{
	gpointer k, v;

	if (!t->map || !g_hash_table_lookup_extended(t->map, key, &k, &v))
		return 0;
	hit->list = v;
	hit->entry = (const char *)k + 2;
	return 1;
}

int ims_intel_match_ip(const struct ims_intel_set *s, int allow, const char *ip,
                       struct ims_intel_hit *hit)
{
	unsigned char a[16];
	const struct table *t;
	char key[80];

	if (!s || !ip)
		return 0;
	t = &s->t[allow ? 1 : 0];
	if (inet_pton(AF_INET, ip, a) == 1) {
		for (int b = 32; b >= 0; b--)
			if (t->v4_bits[b]) {
				cidr_key(AF_INET, a, b, key, sizeof key);
				if (lookup(t, key, hit))
					return 1;
			}
	} else if (inet_pton(AF_INET6, ip, a) == 1) {
		for (int b = 128; b >= 0; b--)
			if (t->v6_bits[b]) {
				cidr_key(AF_INET6, a, b, key, sizeof key);
				if (lookup(t, key, hit))
					return 1;
			}
	}
	return 0;
}

int ims_intel_match_domain(const struct ims_intel_set *s, int allow, const char *domain,
                           struct ims_intel_hit *hit)
{
	char name[256], key[260];

	if (!s || !domain || domain_norm(domain, name, sizeof name) != 0)
		return 0;
	for (const char *p = name; p; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL) {
		snprintf(key, sizeof key, "D|%s", p);
		if (lookup(&s->t[allow ? 1 : 0], key, hit))
			return 1;
	}
	return 0;
}

int ims_intel_match_url(const struct ims_intel_set *s, int allow, const char *url,
                        struct ims_intel_hit *hit)
{
	char key[IMS_INTEL_ENTRY_MAX + 3];

	if (!s || !url || ims_intel_url_norm(url, key + 2, sizeof key - 2) != IMS_OK)
		return 0;
	key[0] = 'U';
	key[1] = '|';
	return lookup(&s->t[allow ? 1 : 0], key, hit);
}

int ims_intel_match_sha256(const struct ims_intel_set *s, int allow, const char *hex,
                           struct ims_intel_hit *hit)
{
	char key[68];

	if (!s || !hex || !is_hex64(hex))
		return 0;
	key[0] = 'H';
	key[1] = '|';
	for (int i = 0; i <= 64; i++)
		key[2 + i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] + 32 : hex[i]);
	return lookup(&s->t[allow ? 1 : 0], key, hit);
}

int ims_intel_has_hashes(const struct ims_intel_set *s)
{
	return s && (s->t[0].hashes || s->t[1].hashes);
}

/* Loads the lists of w's dir (whose signature is sig) and swaps the new
 * set in; an unreadable dir gives an empty set.  Not called by two threads
 * at once (reload held, or the one loader thread). */
static void load_and_swap(struct ims_intel *w, const char *sig)
{
	char err[300];
	struct ims_intel_set *s = NULL, *old;
	ims_status rc;

	rc = ims_intel_load(w->dir, w->max_entries, &s, err, sizeof err);
	if (rc != IMS_OK) {
		if (strcmp(w->sig, "error") != 0)
			ims_log_warn(NULL, "event=intel_load dir=%s error=\"%s\"", w->dir, err);
		if (rc == IMS_ENOMEM)
			return; /* keep the old set; try again at the next check */
		if (!(s = set_new()))
			return;
	} else {
		ims_log_notice(NULL, "event=intel_loaded dir=%s lists=%zu entries=%zu", w->dir,
		               s->nnames, s->size);
	}
	snprintf(w->sig, sizeof w->sig, "%s", sig);
	pthread_mutex_lock(&w->lock);
	old = w->cur;
	w->cur = s;
	pthread_mutex_unlock(&w->lock);
	ims_intel_set_unref(old);
}

/* With reload held: waits for a loader thread that has finished. */
static void join_loader(struct ims_intel *w)
{
	if (w->loader_started) {
		pthread_join(w->loader, NULL);
		w->loader_started = 0;
	}
}

/* A large feed takes seconds to load: it is read in a thread of its own
 * while scans go on with the set they have. */
static void *loader_main(void *arg)
{
	struct ims_intel *w = arg;

	load_and_swap(w, w->new_sig);
	pthread_mutex_lock(&w->reload);
	w->loading = 0;
	pthread_mutex_unlock(&w->reload);
	return NULL;
}

/* With reload held: starts a load when the files changed; in the calling
 * thread when wait is set (or no thread can be started). */
static void refresh(struct ims_intel *w, int wait)
{
	char sig[SIG_MAX];

	if (w->loading)
		return;
	join_loader(w);
	signature(w->dir, sig, sizeof sig);
	if (strcmp(sig, w->sig) == 0)
		return;
	if (!wait) {
		memcpy(w->new_sig, sig, sizeof sig);
		w->loading = 1;
		if (pthread_create(&w->loader, NULL, loader_main, w) == 0) {
			w->loader_started = 1;
			return;
		}
		w->loading = 0;
	}
	load_and_swap(w, sig);
}

ims_status ims_intel_new(const char *dir, int max_entries, struct ims_intel **out)
{
	struct ims_intel *w = calloc(1, sizeof *w);

	*out = NULL;
	if (!w || !(w->dir = strdup(dir ? dir : ""))) {
		free(w);
		return IMS_ENOMEM;
	}
	w->max_entries = max_entries;
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->reload, NULL);
	snprintf(w->sig, sizeof w->sig, "(none)");
	refresh(w, 1);
	if (!w->cur) {
		ims_intel_free(w);
		return IMS_ENOMEM;
	}
	w->next_check_ms = now_ms() + IMS_INTEL_CHECK_MS;
	*out = w;
	return IMS_OK;
}

void ims_intel_free(struct ims_intel *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->reload);
	while (w->loading) { /* the loader takes reload to say it is done */
		pthread_mutex_unlock(&w->reload);
		pthread_join(w->loader, NULL);
		pthread_mutex_lock(&w->reload);
		w->loader_started = 0;
	}
	join_loader(w);
	pthread_mutex_unlock(&w->reload);
	ims_intel_set_unref(w->cur);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->reload);
	free(w->dir);
	free(w);
}

void ims_intel_check_now(struct ims_intel *w)
{
	pthread_mutex_lock(&w->reload);
	while (w->loading) { /* a background load first */
		pthread_mutex_unlock(&w->reload);
		usleep(1000);
		pthread_mutex_lock(&w->reload);
	}
	refresh(w, 1);
	w->next_check_ms = now_ms() + IMS_INTEL_CHECK_MS;
	pthread_mutex_unlock(&w->reload);
}

struct ims_intel_set *ims_intel_acquire(struct ims_intel *w)
{
	struct ims_intel_set *s;

	/* one thread checks; the others go on with the set they find */
	if (pthread_mutex_trylock(&w->reload) == 0) {
		long long now = now_ms();

		if (now >= w->next_check_ms) {
			w->next_check_ms = now + IMS_INTEL_CHECK_MS;
			refresh(w, 0);
		}
		pthread_mutex_unlock(&w->reload);
	}
	pthread_mutex_lock(&w->lock);
	s = ims_intel_set_ref(w->cur);
	pthread_mutex_unlock(&w->lock);
	return s;
}
