/* An LMTP client (RFC 2033): see lmtp.h. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "lmtp.h"

#define LINE_MAX_LEN 2048
#define OUT_CHUNK    65536

struct conn {
	int fd;
	char in[4096];
	size_t have, pos;
	char out[OUT_CHUNK];
	size_t olen;
	char last[256]; /* the last reply's text, for err */
};

static int set_timeouts(int fd, int timeout_s)
{
	struct timeval tv = {timeout_s, 0};

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) ||
	       setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connects to "unix:/path" or "host:port"; -1 with err set. */
static int dial(const char *target, int timeout_s, char *err, size_t errlen)
{
	int fd = -1;

	if (strncmp(target, "unix:", 5) == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		if (strlen(target + 5) >= sizeof sa.sun_path) {
			snprintf(err, errlen, "lmtp: socket path too long");
			return -1;
		}
		memcpy(sa.sun_path, target + 5, strlen(target + 5) + 1); /* length checked above */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || set_timeouts(fd, timeout_s) ||
		    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
			snprintf(err, errlen, "lmtp: %s: %s", target, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return fd;
	}
	{
		char host[256];
		const char *colon = strrchr(target, ':');
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV},
		                *res = NULL, *ai;
		int gai;

		if (!colon || (size_t)(colon - target) >= sizeof host || colon == target) {
			snprintf(err, errlen, "lmtp: '%s' is not unix:/path or host:port", target);
			return -1;
		}
		memcpy(host, target, (size_t)(colon - target));
		host[colon - target] = '\0';
		if ((gai = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
			snprintf(err, errlen, "lmtp: %s: %s", target, gai_strerror(gai));
			return -1;
		}
		for (ai = res; ai; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0)
				continue;
			if (set_timeouts(fd, timeout_s) == 0 &&
			    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			close(fd);
			fd = -1;
		}
		if (fd < 0)
			snprintf(err, errlen, "lmtp: %s: %s", target, strerror(errno));
		freeaddrinfo(res);
		return fd;
	}
}

static int flush_out(struct conn *c)
{
	size_t off = 0;

	while (off < c->olen) {
		ssize_t w = send(c->fd, c->out + off, c->olen - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	c->olen = 0;
	return 0;
}

static int put(struct conn *c, const char *p, size_t n)
{
	while (n) {
		size_t k = sizeof c->out - c->olen;
		if (k == 0) {
			if (flush_out(c))
				return -1;
			continue;
		}
		if (k > n)
			k = n;
		memcpy(c->out + c->olen, p, k);
		c->olen += k;
		p += k;
		n -= k;
	}
	return 0;
}

static int put_str(struct conn *c, const char *s)
{
	return put(c, s, strlen(s));
}

/* One line without its line end into line; -1 on error or EOF. */
static int read_line(struct conn *c, char *line, size_t cap)
{
	size_t n = 0;

	for (;;) {
		if (c->pos == c->have) {
			ssize_t r = recv(c->fd, c->in, sizeof c->in, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			c->have = (size_t)r;
			c->pos = 0;
		}
		char ch = c->in[c->pos++];
		if (ch == '\n')
			break;
		if (n + 1 < cap)
			line[n++] = ch;
	}
	if (n && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return 0;
}

/* Reads one (possibly multi-line) reply; returns its code, -1 on error. */
static int reply(struct conn *c)
{
	char line[LINE_MAX_LEN];

	for (;;) {
		if (read_line(c, line, sizeof line) != 0)
			return -1;
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
		    line[1] > '9' || line[2] < '0' || line[2] > '9')
			return -1;
		if (line[3] != '-') {
			snprintf(c->last, sizeof c->last, "%.255s", line);
			return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		}
	}
}

static int command(struct conn *c, const char *a, const char *b, const char *d)
{
	if (put_str(c, a) || (b && put_str(c, b)) || (d && put_str(c, d)) || put(c, "\r\n", 2) ||
	    flush_out(c))
		return -1;
	return reply(c);
}

/* An address must not end the command it is written into. */
static int addr_ok(const char *a)
{
	if (strlen(a) > 320)
		return 0;
	for (; *a; a++)
		if ((unsigned char)*a <= ' ' || *a == '<' || *a == '>' || *a == 0x7f)
			return 0;
	return 1;
}

/* The message as DATA: CRLF line ends, leading dots doubled, ".\r\n". */
static int put_data(struct conn *c, const char *raw, size_t len)
{
	int bol = 1;

	for (size_t i = 0; i < len; i++) {
		char ch = raw[i];
		if (bol && ch == '.' && put(c, ".", 1))
			return -1;
		if (ch == '\n') {
			if (put(c, "\r\n", 2))
				return -1;
			bol = 1;
			continue;
		}
		if (ch == '\r' && i + 1 < len && raw[i + 1] == '\n')
			continue; /* the \n writes CRLF */
		if (put(c, &ch, 1))
			return -1;
		bol = 0;
	}
	if (!bol && put(c, "\r\n", 2))
		return -1;
	return put(c, ".\r\n", 3) || flush_out(c);
}

ims_status ims_lmtp_deliver(const char *target, const char *mail_from, const char *const *rcpts,
                            size_t n, const char *raw, size_t len, int timeout_s, int *codes,
                            char *err, size_t errlen)
{
	struct conn *c = NULL;
	char host[256];
	size_t accepted = 0;
	ims_status st = IMS_ETEMP;
	int code;

	err[0] = '\0';
	for (size_t i = 0; i < n; i++)
		codes[i] = 451;
	if (n == 0 || n > IMS_LMTP_MAX_RCPTS) {
		snprintf(err, errlen, "lmtp: 1..%d recipients", IMS_LMTP_MAX_RCPTS);
		return IMS_EINVAL;
	}
	/* a sender that cannot be written into MAIL FROM (a quoted local part
	 * with spaces, say) must not make a message undeliverable: null sender */
	if (*mail_from && !addr_ok(mail_from))
		mail_from = "";
	for (size_t i = 0; i < n; i++)
		if (!*rcpts[i] || !addr_ok(rcpts[i])) {
			snprintf(err, errlen, "lmtp: recipient address cannot be written");
			return IMS_EINVAL;
		}
	if (!(c = calloc(1, sizeof *c)))
		return IMS_ENOMEM;
	if ((c->fd = dial(target, timeout_s, err, errlen)) < 0)
		goto out;
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	if ((code = reply(c)) != 220 || (code = command(c, "LHLO ", host, NULL)) != 250) {
		snprintf(err, errlen, "lmtp: greeting/LHLO: %s", code < 0 ? "no answer" : c->last);
		goto quit;
	}
	if ((code = command(c, "MAIL FROM:<", mail_from, ">")) != 250) {
		snprintf(err, errlen, "lmtp: MAIL: %s", code < 0 ? "no answer" : c->last);
		goto quit;
	}
	for (size_t i = 0; i < n; i++) {
		code = command(c, "RCPT TO:<", rcpts[i], ">");
		if (code < 0) {
			snprintf(err, errlen, "lmtp: RCPT: no answer");
			goto out;
		}
		codes[i] = code;
		if (code / 100 == 2)
			accepted++;
		else if (!err[0])
			snprintf(err, errlen, "lmtp: RCPT %s: %s", rcpts[i], c->last);
	}
	if (accepted == 0) {
		st = IMS_OK;
		goto quit;
	}
	if ((code = command(c, "DATA", NULL, NULL)) != 354) {
		snprintf(err, errlen, "lmtp: DATA: %s", code < 0 ? "no answer" : c->last);
		for (size_t i = 0; i < n; i++)
			if (codes[i] / 100 == 2)
				codes[i] = code < 0 ? 451 : code;
		goto quit;
	}
	if (put_data(c, raw, len) != 0) {
		snprintf(err, errlen, "lmtp: writing the message failed");
		for (size_t i = 0; i < n; i++)
			if (codes[i] / 100 == 2)
				codes[i] = 451;
		goto out;
	}
	/* one reply per accepted recipient, in order */
	for (size_t i = 0; i < n; i++) {
		if (codes[i] / 100 != 2)
			continue;
		code = reply(c);
		if (code < 0) {
			for (size_t k = i; k < n; k++)
				if (codes[k] / 100 == 2)
					codes[k] = 451;
			snprintf(err, errlen, "lmtp: no answer after DATA");
			goto out;
		}
		codes[i] = code;
		if (code / 100 != 2 && !err[0])
			snprintf(err, errlen, "lmtp: %s: %s", rcpts[i], c->last);
	}
	st = IMS_OK;
quit:
	(void)command(c, "QUIT", NULL, NULL);
out:
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return st;
}
