/* Events for a SIEM: see siem.h. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "siem.h"

const char *ims_siem_field(const struct ims_siem_event *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->kv[2 * i] && strcmp(e->kv[2 * i], name) == 0)
			return e->kv[2 * i + 1] ? e->kv[2 * i + 1] : "";
	return NULL;
}

char *ims_siem_json(const struct ims_siem_event *e)
{
	json_t *o = json_object();
	char *out = NULL;

	if (!o)
		return NULL;
	if (json_object_set_new(o, "stream_id", json_string(e->id ? e->id : "")) != 0)
		goto out;
	for (size_t i = 0; i < e->n; i++) {
		const char *k = e->kv[2 * i], *v = e->kv[2 * i + 1];
		/* json_stringn_nocheck would pass invalid UTF-8 through; a value
		 * that is not UTF-8 is written with its bad bytes replaced */
		json_t *js;

		if (!k || !*k || strcmp(k, "stream_id") == 0)
			continue;
		js = json_string(v ? v : "");
		if (!js) {
			char *copy = strdup(v);

			if (!copy)
				goto out;
			for (unsigned char *p = (unsigned char *)copy; *p; p++)
				if (*p >= 0x80)
					*p = '?';
			js = json_string(copy);
			free(copy);
		}
		/* a name that is not UTF-8 cannot be a JSON key: left out */
		(void)json_object_set_new(o, k, js);
	}
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(o);
	return out;
}

int ims_siem_severity(const struct ims_siem_event *e)
{
	const char *type = ims_siem_field(e, "type"), *a;

	if (type && strcmp(type, "scan") == 0) {
		a = ims_siem_field(e, "action");
		if (!a)
			return 3;
		if (strcmp(a, "reject") == 0)
			return 8;
		if (strcmp(a, "quarantine") == 0)
			return 6;
		if (strcmp(a, "tag") == 0)
			return 4;
		if (strcmp(a, "tempfail") == 0)
			return 3;
		return 1;
	}
	if (type && strcmp(type, "click") == 0) {
		a = ims_siem_field(e, "verdict");
		return a && strcmp(a, "block") == 0 ? 6 : a && strcmp(a, "warn") == 0 ? 4 : 2;
	}
	if (type && strcmp(type, "admin") == 0) {
		a = ims_siem_field(e, "op");
		return a && strncmp(a, "rescan.", 7) == 0 ? 7 : 3;
	}
	return 3;
}

/* CEF header field: \ and | escaped, line breaks made spaces. */
static void cef_header(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '|')
			fputc('\\', f);
		fputc(*s == '\r' || *s == '\n' ? ' ' : *s, f);
	}
}

/* CEF extension value: \ and = escaped, CR and LF as \r and \n. */
static void cef_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '=')
			fputc('\\', f), fputc(*s, f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\r')
			fputs("\\r", f);
		else
			fputc(*s, f);
	}
}

/* Field names with a CEF dictionary key; the others keep their name
 * (letters, digits and _ only). */
static const char *const cef_keys[] = {
    "time",   "rt",  "client_ip", "src",     "mail_from", "suser", "actor", "suser",
    "action", "act", "url",       "request", "user",      "duser", "rcpt",  "duser",
};

static void cef_key(FILE *f, const char *k)
{
	for (size_t i = 0; i < sizeof cef_keys / sizeof cef_keys[0]; i += 2)
		if (strcmp(cef_keys[i], k) == 0) {
			fputs(cef_keys[i + 1], f);
			return;
		}
	for (; *k; k++)
		fputc((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		              (*k >= '0' && *k <= '9')
		          ? *k
		          : '_',
		      f);
}

char *ims_siem_cef(const struct ims_siem_event *e)
{
	const char *type = ims_siem_field(e, "type"), *op = ims_siem_field(e, "op");
	const char *sig = op && *op ? op : type && *type ? type : "event";
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int first = 1;

	if (!f)
		return NULL;
	fputs("CEF:0|ims|ims|", f);
	cef_header(f, PACKAGE_VERSION);
	fputc('|', f);
	cef_header(f, sig);
	fputc('|', f);
	if (type && strcmp(type, "scan") == 0) {
		const char *a = ims_siem_field(e, "action");

		fputs("scan ", f);
		cef_header(f, a ? a : "?");
	} else {
		cef_header(f, type ? type : "event");
		if (op) {
			fputc(' ', f);
			cef_header(f, op);
		}
	}
	fprintf(f, "|%d|", ims_siem_severity(e));
	if (e->id) {
		fputs("externalId=", f);
		cef_value(f, e->id);
		first = 0;
	}
	for (size_t i = 0; i < e->n; i++) {
		const char *k = e->kv[2 * i], *v = e->kv[2 * i + 1];

		if (!k || !*k || strcmp(k, "type") == 0)
			continue;
		if (!first)
			fputc(' ', f);
		first = 0;
		cef_key(f, k);
		fputc('=', f);
		cef_value(f, v ? v : "");
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *ims_siem_syslog(const struct ims_siem_event *e, const char *msg, int facility,
                      int octet_count, size_t *len)
{
	const char *t = ims_siem_field(e, "time"), *type = ims_siem_field(e, "type");
	char host[256], stamp[40], msgid[33];
	char *frame = NULL, *out = NULL;
	int sev = ims_siem_severity(e), pri, n;
	long long ms = 0;
	struct timespec ts;
	struct tm tm;
	time_t secs;
	size_t j = 0;

	if (t) {
		char *end;

		errno = 0;
		ms = strtoll(t, &end, 10);
		if (errno || *end || end == t)
			ms = 0; /* not a time: the time of sending */
	}
	if (ms <= 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	secs = (time_t)(ms / 1000);
	gmtime_r(&secs, &tm);
	snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	if (gethostname(host, sizeof host) != 0 || !host[0])
		snprintf(host, sizeof host, "-");
	host[sizeof host - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p <= ' ' || *p > '~')
			*p = '-';
	/* MSGID: PRINTUSASCII, at most 32 */
	for (const char *p = type && *type ? type : "-"; *p && j < sizeof msgid - 1; p++)
		msgid[j++] = *p > ' ' && *p <= '~' ? *p : '_';
	msgid[j] = '\0';
	pri = (facility & ~7) | (sev >= 8 ? LOG_WARNING : sev >= 6 ? LOG_NOTICE : LOG_INFO);
	n = asprintf(&frame, "<%d>1 %s %.255s ims %ld %s - %s", pri, stamp, host, (long)getpid(),
	             msgid, msg);
	if (n < 0)
		return NULL;
	if (!octet_count) {
		*len = (size_t)n;
		return frame;
	}
	if ((n = asprintf(&out, "%d %s", n, frame)) < 0)
		out = NULL;
	else
		*len = (size_t)n;
	free(frame);
	return out;
}

struct ims_siem_sink {
	int fd;
	int stream;
};

/* A parsed target: a unix socket path, or a numeric address. */
struct target {
	int socktype; /* SOCK_DGRAM or SOCK_STREAM */
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

static ims_status parse_target(const char *target, struct target *t, char *err, size_t errlen)
{
	struct addrinfo hints = {0}, *ai = NULL;
	char host[256];
	const char *rest, *colon;
	int rc;

	memset(t, 0, sizeof *t);
	if (strncmp(target, "unix:", 5) == 0) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&t->addr;
		size_t n = strlen(target + 5);

		if (n >= sizeof sun->sun_path || target[5] != '/') {
			snprintf(err, errlen, "syslog target %s: not an absolute socket path",
			         target);
			return IMS_EINVAL;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, target + 5, n + 1);
		t->addrlen = sizeof *sun;
		t->socktype = SOCK_DGRAM;
		return IMS_OK;
	}
	if (strncmp(target, "udp:", 4) == 0)
		hints.ai_socktype = SOCK_DGRAM;
	else if (strncmp(target, "tcp:", 4) == 0)
		hints.ai_socktype = SOCK_STREAM;
	else {
		snprintf(err, errlen,
		         "syslog target %s: not unix:PATH, udp:HOST:PORT or tcp:HOST:PORT", target);
		return IMS_EINVAL;
	}
	rest = target + 4;
	colon = strrchr(rest, ':');
	if (!colon || colon == rest || !colon[1] || (size_t)(colon - rest) >= sizeof host) {
		snprintf(err, errlen, "syslog target %s: no HOST:PORT", target);
		return IMS_EINVAL;
	}
	if (rest[0] == '[' && colon[-1] == ']' && colon - rest >= 2)
		snprintf(host, sizeof host, "%.*s", (int)(colon - rest - 2), rest + 1);
	else
		snprintf(host, sizeof host, "%.*s", (int)(colon - rest), rest);
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
		snprintf(err, errlen, "syslog target %s: %s (HOST is an address, PORT a number)",
		         target, gai_strerror(rc));
		return IMS_EINVAL;
	}
	if (ai->ai_addrlen > sizeof t->addr) {
		freeaddrinfo(ai);
		snprintf(err, errlen, "syslog target %s: unusable address", target);
		return IMS_EINVAL;
	}
	memcpy(&t->addr, ai->ai_addr, ai->ai_addrlen);
	t->addrlen = ai->ai_addrlen;
	t->socktype = hints.ai_socktype;
	freeaddrinfo(ai);
	return IMS_OK;
}

ims_status ims_siem_target_check(const char *target, char *err, size_t errlen)
{
	struct target t;

	return parse_target(target, &t, err, errlen);
}

ims_status ims_siem_sink_open(const char *target, struct ims_siem_sink **out, char *err,
                              size_t errlen)
{
	struct ims_siem_sink *s;
	struct target t;
	ims_status st;
	int fd, rc;

	*out = NULL;
	if ((st = parse_target(target, &t, err, errlen)) != IMS_OK)
		return st;
	fd = socket(t.addr.ss_family, t.socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&t.addr, t.addrlen) != 0) {
		snprintf(err, errlen, "%s: %s", target, strerror(errno));
		if (fd >= 0)
			close(fd);
		return IMS_ETEMP;
	}
	rc = t.socktype == SOCK_STREAM;
	if (!(s = malloc(sizeof *s))) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return IMS_ENOMEM;
	}
	s->fd = fd;
	s->stream = rc;
	*out = s;
	return IMS_OK;
}

ims_status ims_siem_sink_send(struct ims_siem_sink *s, const char *buf, size_t len)
{
	/* a datagram over the largest one UDP carries would fail for ever and
	 * stop the forwarder at that event: it is cut (RFC 5426 allows it) */
	if (!s->stream && len > IMS_SIEM_DGRAM_MAX)
		len = IMS_SIEM_DGRAM_MAX;
	if (!s->stream)
		return send(s->fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? IMS_OK : IMS_ETEMP;
	while (len > 0) {
		ssize_t w = send(s->fd, buf, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return IMS_ETEMP;
		buf += w;
		len -= (size_t)w;
	}
	return IMS_OK;
}

int ims_siem_sink_is_stream(const struct ims_siem_sink *s)
{
	return s->stream;
}

void ims_siem_sink_close(struct ims_siem_sink *s)
{
	if (s) {
		close(s->fd);
		free(s);
	}
}
