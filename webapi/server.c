#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "authcache.h"
#include "connguard.h"
#include "log.h"
#include "sessions.h"
#include "router.h"
#include "server.h"

struct ims_server {
	struct ims_web *app;
	struct MHD_Daemon *d;
	struct ims_connguard *guard;
	int port;
};

/* What the URI log callback hands on_request when the request line's raw
 * URL holds an escaped NUL (%00): libmicrohttpd unescapes the path and the
 * query in place and a NUL would cut them short, so "/emails/ID%00junk"
 * would be served as "/emails/ID". */
static char url_has_nul;

/* Checks the bearer token and the account behind it; sets r->who.  On
 * failure sets the 401/503 response and returns 0. */
static int authenticate(struct ims_req *r)
{
	const char *h = ims_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
	struct ims_token_claims c;
	bool admin;
	ims_status st;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		ims_req_error(r, 401, "a bearer token is required");
		return 0;
	}
	if (ims_token_verify(r->app->key, h + 7, (int64_t)time(NULL), &c) != IMS_OK) {
		ims_req_error(r, 401, "invalid or expired token");
		return 0;
	}
	if (ims_authcache_get(c.sub, c.fam, &c.role)) {
		r->who = c;
		r->authed = true;
		return 1;
	}
	/* the role and the disabled flag as stored now, and the session's
	 * refresh family still live (lib/sessions.h) */
	st = ims_sessions_check(ims_req_store(r), c.sub, c.fam, &admin);
	if (st == IMS_EPERM) {
		ims_req_error(r, 401, "the session has ended");
		return 0;
	}
	if (st != IMS_OK) {
		ims_req_store_failed(r, st);
		return 0;
	}
	c.role = admin ? IMS_ROLE_ADMIN : IMS_ROLE_USER;
	r->who = c;
	r->authed = true;
	ims_authcache_put(c.sub, c.fam, c.role);
	return 1;
}

static void dispatch(struct ims_req *r)
{
	int i = ims_router_match(r->method, r->path, r);

	if (i == -1) {
		ims_req_error(r, 404, "no such resource");
		return;
	}
	if (i == -2) {
		ims_req_error(r, 405, "method not allowed");
		return;
	}
	r->route = i;
	if (ims_routes[i].access != IMS_OPEN) {
		if (!authenticate(r))
			return;
		if (ims_routes[i].access == IMS_ADMIN && r->who.role != IMS_ROLE_ADMIN) {
			ims_req_error(r, 403, "the admin role is required");
			return;
		}
	}
	ims_routes[i].handler(r);
	if (!r->responded)
		ims_req_error(r, 500, "internal error");
}

static enum MHD_Result send_response(struct ims_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->resp) {
		resp = MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_FREE);
		if (resp)
			r->resp = NULL; /* MHD frees it now */
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "X-Request-Id", r->id);
	if (r->ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
	if (r->retry_after > 0) {
		char ra[16];

		snprintf(ra, sizeof ra, "%d", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (r->disposition)
		MHD_add_response_header(resp, "Content-Disposition", r->disposition);
	if (r->status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, POST, DELETE");
	if (r->status == 302)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
		                        r->location ? r->location : "/ui/");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->route >= 0 && strcmp(ims_routes[r->route].name, "click") == 0) {
		/* GET /click: static pages, no script; the target never sees the token */
		MHD_add_response_header(resp, "Content-Security-Policy",
		                        "default-src 'none'; base-uri 'none'; form-action 'none'; "
		                        "frame-ancestors 'none'");
		MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	}
	if (r->route >= 0 && strcmp(ims_routes[r->route].name, "frame") == 0) {
		/* GET /frame/{token}: a message with its remote images, framed by
		 * the UI only; images from anywhere, no script, the frame's css */
		MHD_add_response_header(resp, "Content-Security-Policy",
		                        "default-src 'none'; img-src https: http: data:; "
		                        "style-src 'self'; base-uri 'none'; form-action 'none'; "
		                        "frame-ancestors 'self'");
		MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	}
	if (r->route >= 0 && strcmp(ims_routes[r->route].name, "ui") == 0)
		/* the UI: own scripts and styles only; message HTML sits in a
		 * sandboxed srcdoc iframe and inherits this policy */
		MHD_add_response_header(resp, "Content-Security-Policy",
		                        "default-src 'self'; img-src 'self' data:; "
		                        "style-src 'self'; object-src 'none'; base-uri 'none'; "
		                        "form-action 'self'; frame-ancestors 'none'");
	else
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->status == 413 || r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, len, "-");
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		          (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          out, (socklen_t)len);
}

static struct ims_req *req_new(struct ims_web *app, struct MHD_Connection *conn, const char *method,
                               const char *url)
{
	struct ims_req *r = calloc(1, sizeof *r);
	size_t n;

	if (!r)
		return NULL;
	r->app = app;
	r->conn = conn;
	r->method = method;
	r->route = -1;
	r->start_ns = ims_req_now_ns();
	n = strcspn(url, "?");
	r->path = strndup(url, n > 2048 ? 2048 : n);
	if (!r->path) {
		free(r);
		return NULL;
	}
	ims_reqid_pick(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id"), r->id);
	client_ip(conn, r->ip, sizeof r->ip);
	__atomic_fetch_add(&app->inflight, 1, __ATOMIC_SEQ_CST);
	return r;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	(void)conn;
	return strstr(uri, "%00") ? &url_has_nul : NULL;
}

struct framing {
	int te, cl;
	const char *cl_value;
	bool cl_bad;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->te++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		value = value ? value : "";
		if (!*value || value[strspn(value, "0123456789")] != '\0' ||
		    (f->cl_value && strcmp(f->cl_value, value) != 0))
			f->cl_bad = true;
		f->cl_value = value;
		f->cl++;
	}
	return MHD_YES;
}

/* Why the request head cannot be trusted to frame its body (RFC 9112
 * section 6.3: a request smuggling vector), or NULL: a Content-Length
 * together with a Transfer-Encoding, Content-Length values that differ or
 * are not plain digits. */
static const char *framing_error(struct MHD_Connection *conn)
{
	struct framing f = {0};

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
	if (f.te && f.cl)
		return "a request may not have both Content-Length and Transfer-Encoding";
	if (f.te > 1)
		return "more than one Transfer-Encoding";
	if (f.cl_bad)
		return "Content-Length must be one number";
	return NULL;
}

static struct ims_connguard_conn *guard_conn(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct ims_server *s = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		char ip[64];

		client_ip(conn, ip, sizeof ip);
		*socket_context = ci ? ims_connguard_open(s->guard, ci->connect_fd, ip) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		ims_connguard_close(s->guard, *socket_context);
		*socket_context = NULL;
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
	struct ims_server *s = cls;
	struct ims_web *app = s->app;
	struct ims_req *r = *con_cls;
	size_t max = app->conf->webapi_max_body;

	(void)version;
	if (!r || r == (void *)&url_has_nul) {
		const char *cl, *bad;
		bool nul = r != NULL;

		ims_connguard_head_done(s->guard, guard_conn(conn));
		r = req_new(app, conn, method, url);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		if ((bad = framing_error(conn)) || nul) {
			/* refuse, and close: what follows cannot be framed */
			r->close = true;
			ims_req_error(r, 400, "%s",
			              bad ? bad : "the URL holds an escaped NUL (%00)");
			return send_response(r);
		}
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > max) {
			/* answer before reading the body; MHD closes after */
			ims_req_error(r, 413, "request body too large (limit %zu bytes)", max);
			return send_response(r);
		}
		return MHD_YES;
	}
	if (r->responded) {
		*upload_size = 0; /* 413 already queued: drop whatever still comes */
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		if (!r->body_too_big && r->body_len + n <= max) {
			char *nb = realloc(r->body, r->body_len + n + 1);

			if (!nb)
				return MHD_NO;
			memcpy(nb + r->body_len, upload_data, n);
			r->body = nb;
			r->body_len += n;
			r->body[r->body_len] = '\0';
		} else {
			r->body_too_big = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->body_too_big)
		ims_req_error(r, 413, "request body too large (limit %zu bytes)", max);
	else
		dispatch(r);
	return send_response(r);
}

/* The path as it goes into a log line: bytes outside printable ASCII,
 * quotes and backslashes as %XX (no forged log lines), at most 200. */
static void log_safe(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in && o + 4 < outlen && o < 200; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\' || c == '%') {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct ims_server *s = cls;
	struct ims_web *app = s->app;
	struct ims_req *r = *con_cls;
	uint64_t ns;
	char path[256];

	ims_connguard_request_done(s->guard, guard_conn(conn));
	if (r == (void *)&url_has_nul)
		*con_cls = r = NULL; /* the head never completed */
	if (!r)
		return;
	log_safe(r->path, path, sizeof path);
	*con_cls = NULL;
	ns = ims_req_now_ns() - r->start_ns;
	if (!r->responded)
		r->status = toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? 408 : 499;
	ims_metrics_observe(app->metrics, r->route, r->status, ns);
	ims_log_info(r->id, "event=http method=%s path=\"%s\" status=%d ms=%.3f ip=%s user=%s",
	             r->method, path, r->status, (double)ns / 1e6, r->ip,
	             r->authed ? r->who.sub : "-");
	ims_req_free(r);
	__atomic_fetch_sub(&app->inflight, 1, __ATOMIC_SEQ_CST);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof buf, fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	ims_log_warn(NULL, "event=mhd message=\"%s\"", buf);
}

static int parse_listen(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	return 0;
}

/* Binds and listens here rather than in libmicrohttpd, so that an address in
 * use is an error that says so (no SO_REUSEPORT: a second ims-webapi on the
 * same port must not start and share its connections). */
static int listen_on(const struct sockaddr_in *sa, char *err, size_t errlen, const char *what)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, (const struct sockaddr *)sa, sizeof *sa) != 0 || listen(fd, 511) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", what, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

ims_status ims_server_start(struct ims_web *app, struct ims_server **out, char *err, size_t errlen)
{
	int fd;
	struct ims_server *s;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *di;

	*out = NULL;
	if (parse_listen(app->conf->webapi_listen, &sa) != 0) {
		snprintf(err, errlen, "[webapi] listen: want IPv4:PORT, got '%s'",
		         app->conf->webapi_listen);
		return IMS_EINVAL;
	}
	if ((fd = listen_on(&sa, err, errlen, app->conf->webapi_listen)) < 0)
		return IMS_EIO;
	s = calloc(1, sizeof *s);
	if (!s) {
		close(fd);
		return IMS_ENOMEM;
	}
	s->app = app;
	if (ims_connguard_new(app->conf->webapi_head_timeout_s, app->conf->webapi_timeout_s,
	                      &s->guard) != IMS_OK) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		free(s);
		return IMS_ENOMEM;
	}
	/* max_connections_per_ip = 0: no cap (behind a proxy, every client
	 * has the proxy's address) */
	s->d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0,
	    NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)app->conf->webapi_threads, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)app->conf->webapi_max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)app->conf->webapi_max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)app->conf->webapi_timeout_s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, s, MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "cannot start the HTTP server on %s",
		         app->conf->webapi_listen);
		close(fd);
		ims_connguard_free(s->guard);
		free(s);
		return IMS_EIO;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : ntohs(sa.sin_port);
	*out = s;
	return IMS_OK;
}

int ims_server_port(const struct ims_server *s)
{
	return s->port;
}

void ims_server_stop(struct ims_server *s, int grace_ms)
{
	MHD_socket fd;

	if (!s)
		return;
	fd = MHD_quiesce_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	for (int waited = 0; waited < grace_ms; waited += 10) {
		if (__atomic_load_n(&s->app->inflight, __ATOMIC_SEQ_CST) == 0)
			break;
		usleep(10000);
	}
	ims_log_notice(NULL, "event=stopping inflight=%d",
	               __atomic_load_n(&s->app->inflight, __ATOMIC_SEQ_CST));
	MHD_stop_daemon(s->d); /* closes every connection: the guard's list empties */
	ims_connguard_free(s->guard);
	free(s);
}
