#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "dns.h"

#define DNS_CLASS_IN       1
#define DEFAULT_TIMEOUT_MS 5000
#define POLL_SLICE_MS      100 /* longest single wait of the thread reading answers */

/* Answers come back through one pipe (ub_fd).  One waiting thread at a
 * time reads it (ub_process), which runs the callbacks of every answered
 * query, whoever asked; the other waiters sleep on the condition variable
 * until the reader is done, then check their own query. */
struct ims_dns {
	struct ub_ctx *ctx;
	int timeout_ms;
	pthread_mutex_t lock;
	pthread_cond_t answered;
	int reading; /* a thread is in poll/ub_process */
};

/* One query in flight; its fields are guarded by dns->lock. */
struct pending {
	struct ims_dns *dns;
	int done;
	int err;
	struct ub_result *result;
};

static void set_err(char *err, size_t errlen, const char *what, const char *arg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s", what, arg);
}

/* "127.0.0.1:5353" -> "127.0.0.1@5353"; "[::1]:53" -> "::1@53"; "::1" and
 * "192.0.2.1" stay as they are. */
static ims_status fwd_address(const char *in, char *out, size_t outlen)
{
	char host[64];
	const char *port = NULL;
	unsigned char addr[16];
	size_t hlen;

	while (*in == ' ' || *in == '\t')
		in++;
	if (*in == '[') {
		const char *close = strchr(in, ']');
		if (!close)
			return IMS_EINVAL;
		hlen = (size_t)(close - in - 1);
		if (hlen >= sizeof host)
			return IMS_EINVAL;
		memcpy(host, in + 1, hlen);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return IMS_EINVAL;
	} else {
		const char *colon = strchr(in, ':');
		if (colon && !strchr(colon + 1, ':')) { /* one colon: v4 with port */
			hlen = (size_t)(colon - in);
			port = colon + 1;
		} else {
			hlen = strlen(in);
		}
		if (hlen >= sizeof host)
			return IMS_EINVAL;
		memcpy(host, in, hlen);
	}
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
		return IMS_EINVAL;
	if (port) {
		char *end;
		long p;

		errno = 0;
		p = strtol(port, &end, 10);
		if (errno || end == port || *end != '\0' || p < 1 || p > 65535)
			return IMS_EINVAL;
		if ((size_t)snprintf(out, outlen, "%s@%ld", host, p) >= outlen)
			return IMS_EINVAL;
	} else if ((size_t)snprintf(out, outlen, "%s", host) >= outlen) {
		return IMS_EINVAL;
	}
	return IMS_OK;
}

ims_status ims_dns_new_servers(const char *const *servers, int timeout_ms, struct ims_dns **out,
                               char *err, size_t errlen)
{
	ims_status rc = IMS_ENOMEM;
	struct ims_dns *dns = NULL;
	int nfwd = 0;

	if (!out)
		return IMS_EINVAL;
	*out = NULL;
	dns = calloc(1, sizeof *dns);
	if (!dns)
		goto out;
	dns->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
	pthread_mutex_init(&dns->lock, NULL);
	pthread_cond_init(&dns->answered, NULL);
	dns->ctx = ub_ctx_create();
	if (!dns->ctx) {
		set_err(err, errlen, "cannot create the libunbound context", "");
		goto out;
	}
	/* answers come back through a thread, not a forked process */
	if (ub_ctx_async(dns->ctx, 1) != 0) {
		rc = IMS_EIO;
		goto out;
	}
	for (size_t i = 0; servers && servers[i]; i++) {
		char fwd[96];

		if (servers[i][0] == '\0')
			continue;
		if (fwd_address(servers[i], fwd, sizeof fwd) != IMS_OK) {
			set_err(err, errlen,
			        "[dns] nameservers: not an IP address with an optional "
			        ":port: ",
			        servers[i]);
			rc = IMS_EINVAL;
			goto out;
		}
		if (ub_ctx_set_fwd(dns->ctx, fwd) != 0) {
			set_err(err, errlen, "[dns] nameservers: libunbound refused ", servers[i]);
			rc = IMS_EINVAL;
			goto out;
		}
		nfwd++;
	}
	if (nfwd > 0) {
		/* the configured servers answer everything: no built-in local
		 * zones (libunbound answers test., invalid., home.arpa. and the
		 * private and TEST-NET reverse zones itself by default; "nodefault"
		 * does not work through ub_ctx_set_option, "transparent" does) */
		static const char *const zones[] = {"test. transparent", "invalid. transparent",
		                                    "home.arpa. transparent", "onion. transparent"};
		ub_ctx_set_option(dns->ctx, "unblock-lan-zones:", "yes");
		ub_ctx_set_option(dns->ctx, "insecure-lan-zones:", "yes");
		for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
			ub_ctx_set_option(dns->ctx, "local-zone:", zones[i]);
	}
	if (nfwd == 0) {
		int r = ub_ctx_resolvconf(dns->ctx, NULL);
		if (r != 0) {
			set_err(err, errlen,
			        "cannot read the system resolver config: ", ub_strerror(r));
			rc = IMS_EIO;
			goto out;
		}
	}
	/* a server on loopback (a test server, a local cache) is allowed */
	ub_ctx_set_option(dns->ctx, "do-not-query-localhost:", "no");
	*out = dns;
	dns = NULL;
	rc = IMS_OK;
out:
	ims_dns_free(dns);
	return rc;
}

ims_status ims_dns_new(const struct ims_conf *conf, struct ims_dns **out, char *err, size_t errlen)
{
	return ims_dns_new_servers(conf ? (const char *const *)conf->dns_nameservers : NULL,
	                           conf ? conf->dns_timeout_ms : DEFAULT_TIMEOUT_MS, out, err,
	                           errlen);
}

void ims_dns_free(struct ims_dns *dns)
{
	if (!dns)
		return;
	if (dns->ctx)
		ub_ctx_delete(dns->ctx);
	pthread_cond_destroy(&dns->answered);
	pthread_mutex_destroy(&dns->lock);
	free(dns);
}

int ims_dns_timeout_ms(const struct ims_dns *dns)
{
	return dns ? dns->timeout_ms : 0;
}

static int valid_name(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (++label > 63) {
			return 0;
		}
	}
	return 1;
}

static void on_answer(void *arg, int err, struct ub_result *result)
{
	struct pending *p = arg;

	pthread_mutex_lock(&p->dns->lock);
	p->err = err;
	p->result = result;
	p->done = 1;
	pthread_mutex_unlock(&p->dns->lock);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wait_until(struct ims_dns *dns, long long deadline_ms)
{
	struct timespec ts;
	long long left = deadline_ms - now_ms();

	if (left > POLL_SLICE_MS)
		left = POLL_SLICE_MS;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += left / 1000;
	ts.tv_nsec += (left % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&dns->answered, &dns->lock, &ts);
}

/* Waits, with dns->lock held, until p is answered or the deadline passes;
 * returns 0 on an answer, -1 on timeout. */
static int wait_answer(struct ims_dns *dns, struct pending *p, long long deadline)
{
	while (!p->done) {
		long long left = deadline - now_ms();

		if (left <= 0)
			return -1;
		if (dns->reading) {
			wait_until(dns, deadline);
			continue;
		}
		dns->reading = 1;
		pthread_mutex_unlock(&dns->lock);
		{
			struct pollfd pfd = {.fd = ub_fd(dns->ctx), .events = POLLIN};
			if (poll(&pfd, 1, (int)(left > POLL_SLICE_MS ? POLL_SLICE_MS : left)) > 0)
				ub_process(dns->ctx); /* runs on_answer for every answered query */
		}
		pthread_mutex_lock(&dns->lock);
		dns->reading = 0;
		pthread_cond_broadcast(&dns->answered);
	}
	return 0;
}

ims_status ims_dns_query(struct ims_dns *dns, const char *name, int rrtype, struct ub_result **out)
{
	struct pending *p = NULL;
	int id = 0, r;
	ims_status rc = IMS_ETEMP;

	if (!dns || !name || !out)
		return IMS_EINVAL;
	*out = NULL;
	if (!valid_name(name))
		return IMS_EINVAL;
	p = calloc(1, sizeof *p);
	if (!p)
		return IMS_ENOMEM;
	p->dns = dns;
	r = ub_resolve_async(dns->ctx, name, rrtype, DNS_CLASS_IN, p, on_answer, &id);
	if (r != 0) {
		rc = r == UB_SYNTAX ? IMS_EINVAL : r == UB_NOMEM ? IMS_ENOMEM : IMS_ETEMP;
		goto out;
	}
	pthread_mutex_lock(&dns->lock);
	if (wait_answer(dns, p, now_ms() + dns->timeout_ms) != 0) {
		if (ub_cancel(dns->ctx, id) == 0) {
			pthread_mutex_unlock(&dns->lock);
			goto out; /* cancelled: the callback will not run */
		}
		/* the answer is being delivered by the reading thread right now */
		while (!p->done)
			wait_until(dns, now_ms() + POLL_SLICE_MS);
	}
	pthread_mutex_unlock(&dns->lock);
	if (p->err != 0 || !p->result) {
		rc = p->err == UB_NOMEM ? IMS_ENOMEM : IMS_ETEMP;
		goto out;
	}
	if (p->result->rcode == 3 || p->result->nxdomain) {
		rc = IMS_ENOTFOUND;
	} else if (p->result->rcode != 0) {
		rc = IMS_ETEMP; /* SERVFAIL, REFUSED, ... */
		goto out;
	} else {
		rc = p->result->havedata ? IMS_OK : IMS_ENOTFOUND;
	}
	*out = p->result;
	p->result = NULL;
out:
	if (p) {
		if (p->result)
			ub_resolve_free(p->result);
		free(p);
	}
	return rc;
}

void ims_dns_strv_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* Joins the character-strings of one TXT rdata. */
static char *txt_join(const unsigned char *d, size_t len)
{
	char *s = malloc(len + 1);
	size_t at = 0, i = 0;

	if (!s)
		return NULL;
	while (i < len) {
		size_t n = d[i++], take;

		if (n > len - i)
			n = len - i; /* truncated rdata */
		take = at + n > IMS_DNS_MAX_TXT ? IMS_DNS_MAX_TXT - at : n;
		memcpy(s + at, d + i, take);
		at += take;
		i += n;
	}
	s[at] = '\0';
	return s;
}

ims_status ims_dns_txt(struct ims_dns *dns, const char *name, char ***records_out)
{
	struct ub_result *res = NULL;
	char **v = NULL;
	size_t n = 0;
	ims_status rc;

	if (!records_out)
		return IMS_EINVAL;
	*records_out = NULL;
	rc = ims_dns_query(dns, name, 16, &res);
	if (rc != IMS_OK)
		goto out;
	rc = IMS_ENOMEM;
	while (res->data[n] && n < IMS_DNS_MAX_RECORDS)
		n++;
	v = calloc(n + 1, sizeof *v);
	if (!v)
		goto out;
	for (size_t i = 0; i < n; i++) {
		v[i] = txt_join((const unsigned char *)res->data[i], (size_t)res->len[i]);
		if (!v[i])
			goto out;
	}
	*records_out = v;
	v = NULL;
	rc = IMS_OK;
out:
	ims_dns_strv_free(v);
	if (res)
		ub_resolve_free(res);
	return rc;
}

ims_status ims_dns_wire_name(const unsigned char *data, size_t len, char *out, size_t outlen)
{
	size_t i = 0, at = 0;

	if (!out || outlen == 0)
		return IMS_EINVAL;
	out[0] = '\0';
	while (i < len) {
		size_t n = data[i++];

		if (n == 0) {
			out[at] = '\0';
			return IMS_OK;
		}
		if (n > 63 || n > len - i)
			return IMS_EFORMAT; /* compression pointer or truncated */
		if (at + n + 2 > outlen)
			return IMS_ELIMIT;
		if (at > 0)
			out[at++] = '.';
		memcpy(out + at, data + i, n);
		at += n;
		out[at] = '\0';
		i += n;
	}
	return IMS_EFORMAT; /* no terminating root label */
}

ims_status ims_dns_local_only(struct ims_dns *dns)
{
	if (!dns)
		return IMS_EINVAL;
	/* every name under the root is answered here, from local-data only */
	if (ub_ctx_set_option(dns->ctx, "local-zone:", ". static") != 0)
		return IMS_EINVAL;
	return IMS_OK;
}

ims_status ims_dns_new_local(int timeout_ms, struct ims_dns **out, char *err, size_t errlen)
{
	static const char *const none[] = {NULL};
	ims_status rc = ims_dns_new_servers(none, timeout_ms, out, err, errlen);

	if (rc == IMS_OK && (rc = ims_dns_local_only(*out)) != IMS_OK) {
		set_err(err, errlen, "libunbound refused the local root zone", "");
		ims_dns_free(*out);
		*out = NULL;
	}
	return rc;
}

ims_status ims_dns_local_data(struct ims_dns *dns, const char *rr, char *err, size_t errlen)
{
	int r;

	if (!dns || !rr)
		return IMS_EINVAL;
	r = ub_ctx_data_add(dns->ctx, rr);
	if (r != 0) {
		/* libunbound says UB_NOMEM for a record it cannot parse too */
		set_err(err, errlen, "libunbound refused local data: ", rr);
		return IMS_EINVAL;
	}
	return IMS_OK;
}

ims_status ims_dns_local_zone(struct ims_dns *dns, const char *zone, const char *type, char *err,
                              size_t errlen)
{
	char opt[300];
	int r;

	if (!dns || !zone || !type)
		return IMS_EINVAL;
	/* before the first query, as configuration: libunbound 1.17 can miss
	 * names under a zone added to a running resolver (ub_ctx_zone_add) and
	 * send those queries out */
	if ((size_t)snprintf(opt, sizeof opt, "%s %s", zone, type) >= sizeof opt)
		return IMS_EINVAL;
	r = ub_ctx_set_option(dns->ctx, "local-zone:", opt);
	if (r == UB_AFTERFINAL)
		r = ub_ctx_zone_add(dns->ctx, zone, type);
	if (r != 0) {
		set_err(err, errlen, "libunbound refused the local zone: ", opt);
		return r == UB_NOMEM ? IMS_ENOMEM : IMS_EINVAL;
	}
	return IMS_OK;
}

void ims_dns_local_remove(struct ims_dns *dns, const char *name)
{
	if (!dns || !name)
		return;
	ub_ctx_data_remove(dns->ctx, name);
}

/* ims_dns_query for many names at once: every query is started, then all
 * are waited for against one deadline, so n lookups cost one wait (one
 * wake-up when the answers come from the cache), not n. */
ims_status ims_dns_query_many(struct ims_dns *dns, const char *const *names, size_t n, int rrtype,
                              ims_status *st, struct ub_result **out)
{
	struct pending *p;
	int *ids;
	long long deadline;

	if (!dns || (n && (!names || !st || !out)))
		return IMS_EINVAL;
	for (size_t i = 0; i < n; i++) {
		out[i] = NULL;
		st[i] = IMS_ETEMP;
	}
	if (n == 0)
		return IMS_OK;
	p = calloc(n, sizeof *p);
	ids = calloc(n, sizeof *ids);
	if (!p || !ids) {
		free(p);
		free(ids);
		return IMS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		int r;

		p[i].dns = dns;
		if (!names[i] || !valid_name(names[i])) {
			st[i] = IMS_EINVAL;
			p[i].done = -1; /* not started */
			continue;
		}
		r = ub_resolve_async(dns->ctx, names[i], rrtype, DNS_CLASS_IN, &p[i], on_answer,
		                     &ids[i]);
		if (r != 0) {
			st[i] = r == UB_SYNTAX  ? IMS_EINVAL
			        : r == UB_NOMEM ? IMS_ENOMEM
			                        : IMS_ETEMP;
			p[i].done = -1;
		}
	}
	deadline = now_ms() + dns->timeout_ms;
	pthread_mutex_lock(&dns->lock);
	for (size_t i = 0; i < n; i++) {
		if (p[i].done || wait_answer(dns, &p[i], deadline) == 0)
			continue;
		if (ub_cancel(dns->ctx, ids[i]) == 0) {
			p[i].done = -1; /* cancelled: the callback will not run */
			continue;
		}
		/* the answer is being delivered by the reading thread right now */
		while (!p[i].done)
			wait_until(dns, now_ms() + POLL_SLICE_MS);
	}
	pthread_mutex_unlock(&dns->lock);
	for (size_t i = 0; i < n; i++) {
		struct ub_result *res = p[i].result;

		if (p[i].done != 1)
			continue; /* st[i] already says why */
		if (p[i].err != 0 || !res)
			st[i] = p[i].err == UB_NOMEM ? IMS_ENOMEM : IMS_ETEMP;
		else if (res->rcode == 3 || res->nxdomain)
			st[i] = IMS_ENOTFOUND;
		else if (res->rcode != 0)
			st[i] = IMS_ETEMP; /* SERVFAIL, REFUSED, ... */
		else
			st[i] = res->havedata ? IMS_OK : IMS_ENOTFOUND;
		if (st[i] == IMS_OK || st[i] == IMS_ENOTFOUND)
			out[i] = res;
		else if (res)
			ub_resolve_free(res);
	}
	free(p);
	free(ids);
	return IMS_OK;
}
