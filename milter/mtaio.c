/* milter/mtaio.c: buffered reads on the MTA connections libmilter accepts.
 *
 * Debian's libmilter (worker pool build) reads every milter command with
 * poll + read(5-byte header) + poll + read(payload), and before each
 * command polls once more (1 ms) to see whether it may keep the session:
 * five system calls per command, about 25 commands per message (each
 * header is one, each preceded by a macro command).  Postfix streams the
 * no-reply stages (SMFIP_NR_*) back to back, so most of those bytes are
 * already in the socket when libmilter asks for the next five.
 *
 * Like sigwait() in ims-milter.c, the definitions below take precedence
 * over libc's for libmilter: a socket returned by accept() (only libmilter
 * accepts in this process) gets a 16 kB read buffer; read() on it is
 * served from the buffer and refills it with one read of whatever the
 * socket holds; poll() reports such a socket readable without a system
 * call while its buffer has bytes; close() drops the buffer.  The byte
 * stream libmilter sees is unchanged; every other descriptor goes straight
 * to libc.  A poll that already has a buffered descriptor ready never
 * blocks (the others are checked with timeout 0), so a session cannot
 * wait on the kernel for bytes that are sitting in our buffer.
 *
 * The worker pool also hands a session back to its controller thread
 * whenever that 1 ms poll finds nothing, i.e. each time the MTA waits for
 * a reply or for its SMTP client: worker writes to a pipe, the controller
 * wakes, polls, signals (or starts) a worker, which wakes: four context
 * switches and a 1 ms timer, five or six times per message.  That poll
 * (one MTA descriptor, POLLIN, timeout 1) is given MTAIO_HOLD_MS instead,
 * so the worker keeps its session while the MTA is busy, as libmilter's
 * thread-per-connection build does; after that it is handed back as
 * before.  The controller starts another worker when none is idle. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

/* glibc declares poll()'s array write-only (__attr_access), so GCC warns
 * that this definition reads fds[].events "uninitialized"; it is input. */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define MTAIO_MAX_FD 8192  /* descriptors above this are not buffered */
#define MTAIO_BUF    16384 /* bytes per connection */
#define MTAIO_HOLD_MS 10000 /* a worker keeps an idle session this long */

struct mtaio_buf {
	size_t off, len;
	unsigned char data[MTAIO_BUF];
};

/* One slot per descriptor; set in accept (libmilter's listener), used by
 * the one thread that runs the session at a time (handed over under
 * libmilter's mutex), cleared in close. */
static struct mtaio_buf *bufs[MTAIO_MAX_FD];

typedef ssize_t (*read_fn)(int, void *, size_t);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*close_fn)(int);

/* The next definition (libc, or a sanitizer's interceptor), looked up on
 * first use: a library constructor may call read() before ours run. */
static void *next_sym(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		if (!f)
			abort();
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

static void *p_read, *p_poll, *p_accept, *p_close;

static ssize_t real_read(int fd, void *b, size_t n)
{
	return ((read_fn)next_sym(&p_read, "read"))(fd, b, n);
}

static int real_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	return ((poll_fn)next_sym(&p_poll, "poll"))(fds, n, timeout);
}

static struct mtaio_buf *buf_of(int fd)
{
	if (fd < 0 || fd >= MTAIO_MAX_FD)
		return NULL;
	return __atomic_load_n(&bufs[fd], __ATOMIC_ACQUIRE);
}

static int buffered(int fd)
{
	const struct mtaio_buf *b = buf_of(fd);

	return b && b->off < b->len;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	int s = ((accept_fn)next_sym(&p_accept, "accept"))(fd, addr, len);

	if (s >= 0) {
		/* replies go out at once: with Nagle, the second of the small
		 * writes libmilter makes at end of message (one per added header,
		 * then the verdict) waits for the MTA's delayed ACK, up to 40 ms
		 * on Linux loopback (fails harmlessly on a unix socket) */
		int one = 1;
		(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	if (s >= 0 && s < MTAIO_MAX_FD) {
		/* no buffer (out of memory) just means unbuffered reads */
		struct mtaio_buf *b = malloc(sizeof *b);
		if (b) {
			b->off = b->len = 0;
			free(__atomic_exchange_n(&bufs[s], b, __ATOMIC_ACQ_REL));
		}
	}
	return s;
}

int close(int fd)
{
	if (fd >= 0 && fd < MTAIO_MAX_FD && __atomic_load_n(&bufs[fd], __ATOMIC_RELAXED))
		free(__atomic_exchange_n(&bufs[fd], NULL, __ATOMIC_ACQ_REL));
	return ((close_fn)next_sym(&p_close, "close"))(fd);
}

ssize_t read(int fd, void *dst, size_t n)
{
	struct mtaio_buf *b = buf_of(fd);
	size_t k;

	if (!b || n == 0)
		return real_read(fd, dst, n);
	if (b->off == b->len) {
		ssize_t r;
		if (n >= MTAIO_BUF)
			return real_read(fd, dst, n);
		r = real_read(fd, b->data, MTAIO_BUF);
		if (r <= 0)
			return r;
		b->off = 0;
		b->len = (size_t)r;
	}
	k = b->len - b->off < n ? b->len - b->off : n;
	memcpy(dst, b->data + b->off, k);
	b->off += k;
	return (ssize_t)k;
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	int ready = 0, r;

	if (n == 1 && timeout == 1 && fds[0].events == POLLIN && buf_of(fds[0].fd))
		timeout = MTAIO_HOLD_MS; /* libmilter's "is there more?" (see above) */
	for (nfds_t i = 0; i < n; i++)
		if ((fds[i].events & (POLLIN | POLLRDNORM)) && buffered(fds[i].fd))
			ready++;
	if (!ready)
		return real_poll(fds, n, timeout);
	if (n == 1) {
		fds[0].revents = (short)(fds[0].events & (POLLIN | POLLRDNORM));
		return 1;
	}
	/* the others without waiting, then the buffered ones on top */
	r = real_poll(fds, n, 0);
	if (r < 0)
		return r;
	ready = 0;
	for (nfds_t i = 0; i < n; i++) {
		if ((fds[i].events & (POLLIN | POLLRDNORM)) && buffered(fds[i].fd))
			fds[i].revents |= (short)(fds[i].events & (POLLIN | POLLRDNORM));
		if (fds[i].revents)
			ready++;
	}
	return ready;
}
