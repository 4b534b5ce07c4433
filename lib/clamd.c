/* clamd INSTREAM client: see clamd.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clamd.h"
#include "netaddr.h"

struct ims_clamd {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int timeout_ms;
};

ims_status ims_clamd_new(const char *address, int timeout_ms, struct ims_clamd **out, char *why,
                         size_t whylen)
{
	struct ims_clamd *c;
	const char *path = NULL;

	*out = NULL;
	if (!address || !*address) {
		snprintf(why, whylen, "no clamd address");
		return IMS_EINVAL;
	}
	if (strncmp(address, "unix:", 5) == 0)
		path = address + 5;
	else if (address[0] == '/')
		path = address;
	c = calloc(1, sizeof *c);
	if (!c)
		return IMS_ENOMEM;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	if (path) {
		struct sockaddr_un *un = (struct sockaddr_un *)&c->addr;

		if (path[0] != '/' || strlen(path) >= sizeof un->sun_path) {
			snprintf(why, whylen, "'%s': want unix:/absolute/path (at most %zu bytes)",
			         address, sizeof un->sun_path - 1);
			free(c);
			return IMS_EINVAL;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, path, strlen(path) + 1);
		c->addrlen = sizeof *un;
	} else {
		char host[64];
		const char *colon = strrchr(address, ':');
		const char *h = address;
		size_t hl;
		long port;
		char *end;

		if (ims_hostport_check(address, false, why, whylen) != IMS_OK || !colon) {
			free(c);
			return IMS_EINVAL;
		}
		hl = (size_t)(colon - address);
		if (*h == '[')
			h++, hl -= 2;
		if (hl >= sizeof host) {
			snprintf(why, whylen, "'%s': address too long", address);
			free(c);
			return IMS_EINVAL;
		}
		memcpy(host, h, hl);
		host[hl] = '\0';
		port = strtol(colon + 1, &end, 10);
		if (strchr(host, ':')) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&c->addr;

			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
				goto bad;
			c->addrlen = sizeof *in6;
		} else {
			struct sockaddr_in *in = (struct sockaddr_in *)&c->addr;

			in->sin_family = AF_INET;
			in->sin_port = htons((uint16_t)port);
			if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
				goto bad;
			c->addrlen = sizeof *in;
		}
	}
	*out = c;
	return IMS_OK;
bad:
	snprintf(why, whylen, "'%s' is not an address", address);
	free(c);
	return IMS_EINVAL;
}

void ims_clamd_free(struct ims_clamd *c)
{
	free(c);
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Waits until fd is ready for events or the deadline passes; 0 when ready,
 * -1 on timeout or error. */
static int wait_fd(int fd, short events, long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -1;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Sends all n bytes before the deadline; 0, or -1 (errno kept). */
static int send_all(int fd, const void *buf, size_t n, long deadline)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w > 0) {
			p += w, n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) < 0) {
				errno = ETIMEDOUT;
				return -1;
			}
		} else {
			return -1;
		}
	}
	return 0;
}

ims_status ims_clamd_parse_reply(const char *reply, size_t len, bool *infected, char *name,
                                 size_t namelen)
{
	static const char prefix[] = "stream: ";
	const size_t pl = sizeof prefix - 1;

	*infected = false;
	while (len > 0 && (reply[len - 1] == '\n' || reply[len - 1] == '\r' ||
	                   reply[len - 1] == '\0' || reply[len - 1] == ' '))
		len--;
	if (len == pl + 2 && memcmp(reply, prefix, pl) == 0 && memcmp(reply + pl, "OK", 2) == 0) {
		snprintf(name, namelen, "%s", "");
		return IMS_OK;
	}
	if (len > pl + 6 && memcmp(reply, prefix, pl) == 0 &&
	    memcmp(reply + len - 6, " FOUND", 6) == 0) {
		size_t n = len - pl - 6;

		for (size_t i = 0; i < n; i++)
			if ((unsigned char)reply[pl + i] < 0x20 || reply[pl + i] == 0x7f)
				goto bad;
		snprintf(name, namelen, "%.*s", (int)n, reply + pl);
		*infected = true;
		return IMS_OK;
	}
	if (len >= 5 && memcmp(reply + len - 5, "ERROR", 5) == 0) {
		snprintf(name, namelen, "clamd: %.*s", (int)(len < 200 ? len : 200), reply);
		return memmem(reply, len, "size limit exceeded", 19) ? IMS_ELIMIT : IMS_ETEMP;
	}
bad:
	snprintf(name, namelen, "clamd: unexpected reply");
	return IMS_ETEMP;
}

ims_status ims_clamd_scan(const struct ims_clamd *c, const char *data, size_t len, bool *infected,
                          char *name, size_t namelen)
{
	static const char cmd[] = "zINSTREAM"; /* sent with its NUL */
	long deadline = now_ms() + c->timeout_ms;
	char reply[IMS_CLAMD_MAX_REPLY + 1];
	size_t got = 0;
	int fd, sent_ok = 1;
	ims_status rc = IMS_ETEMP;

	*infected = false;
	snprintf(name, namelen, "%s", "");
	fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(name, namelen, "clamd: socket: %s", strerror(errno));
		return IMS_ETEMP;
	}
	if (connect(fd, (const struct sockaddr *)&c->addr, c->addrlen) < 0) {
		int err = 0;
		socklen_t el = sizeof err;

		if (errno != EINPROGRESS && errno != EAGAIN) {
			snprintf(name, namelen, "clamd: connect: %s", strerror(errno));
			goto out;
		}
		if (wait_fd(fd, POLLOUT, deadline) < 0) {
			snprintf(name, namelen, "clamd: connect: timed out");
			goto out;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			snprintf(name, namelen, "clamd: connect: %s", strerror(err ? err : errno));
			goto out;
		}
	}
	if (send_all(fd, cmd, sizeof cmd, deadline) < 0)
		sent_ok = 0;
	for (size_t off = 0; sent_ok && off < len;) {
		size_t n = len - off < IMS_CLAMD_CHUNK ? len - off : IMS_CLAMD_CHUNK;
		uint32_t be = htonl((uint32_t)n);

		if (send_all(fd, &be, 4, deadline) < 0 || send_all(fd, data + off, n, deadline) < 0)
			sent_ok = 0;
		off += n;
	}
	if (sent_ok) {
		uint32_t zero = 0;

		if (send_all(fd, &zero, 4, deadline) < 0)
			sent_ok = 0;
	}
	if (!sent_ok && errno == ETIMEDOUT) {
		snprintf(name, namelen, "clamd: send: timed out");
		goto out;
	}
	/* clamd may have answered early (a stream over its limit) and closed:
	 * read its line even when sending failed */
	for (;;) {
		ssize_t r = recv(fd, reply + got, IMS_CLAMD_MAX_REPLY - got, 0);

		if (r > 0) {
			got += (size_t)r;
			if (memchr(reply, '\0', got) || memchr(reply, '\n', got))
				break;
			if (got == IMS_CLAMD_MAX_REPLY) {
				snprintf(name, namelen, "clamd: reply longer than %d bytes",
				         IMS_CLAMD_MAX_REPLY);
				goto out;
			}
		} else if (r == 0) {
			break;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			if (wait_fd(fd, POLLIN, deadline) < 0) {
				snprintf(name, namelen, "clamd: reply: timed out");
				goto out;
			}
		} else {
			break;
		}
	}
	if (got == 0) {
		snprintf(name, namelen, "clamd: no reply%s", sent_ok ? "" : " (send failed)");
		goto out;
	}
	reply[got] = '\0';
	rc = ims_clamd_parse_reply(reply, strnlen(reply, got), infected, name, namelen);
out:
	close(fd);
	return rc;
}
