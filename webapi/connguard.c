#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "connguard.h"
#include "log.h"

/* How often the watchdog looks: a late connection lives at most this much
 * past its deadline. */
#define TICK_MS 250

struct ims_connguard_conn {
	struct ims_connguard_conn *prev, *next;
	int fd;
	bool waiting;      /* for a request head */
	bool shut;         /* shut down by the watchdog already */
	uint64_t deadline; /* monotonic ms */
	uint64_t limit_ms; /* what the deadline allowed, for the log */
	char ip[64];
};

struct ims_connguard {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool stop;
	uint64_t timeout_ms;             /* for a head, from the connection's opening */
	uint64_t next_ms;                /* for the next head, from the end of a request */
	struct ims_connguard_conn *head; /* every open connection */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The socket of a connection in the list is open: the server removes it
 * (ims_connguard_close, under mu) before libmicrohttpd closes the socket,
 * so a shutdown here never reaches a reused descriptor. */
static void *watchdog(void *arg)
{
	struct ims_connguard *g = arg;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		struct timespec until;
		uint64_t now = now_ms();

		for (struct ims_connguard_conn *c = g->head; c; c = c->next) {
			if (!c->waiting || c->shut || now < c->deadline)
				continue;
			c->shut = true;
			shutdown(c->fd, SHUT_RDWR);
			ims_log_warn(NULL, "event=head_timeout ip=%s limit_s=%llu", c->ip,
			             (unsigned long long)(c->limit_ms / 1000));
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cv, &g->mu, &until);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

ims_status ims_connguard_new(int head_timeout_s, int idle_s, struct ims_connguard **out)
{
	struct ims_connguard *g = calloc(1, sizeof *g);

	*out = NULL;
	if (!g)
		return IMS_ENOMEM;
	g->timeout_ms = (uint64_t)head_timeout_s * 1000;
	g->next_ms = ((uint64_t)idle_s + (uint64_t)head_timeout_s) * 1000;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	if (pthread_create(&g->thread, NULL, watchdog, g) != 0) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return IMS_ENOMEM;
	}
	*out = g;
	return IMS_OK;
}

void ims_connguard_free(struct ims_connguard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	while (g->head) {
		struct ims_connguard_conn *c = g->head;

		g->head = c->next;
		free(c);
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

struct ims_connguard_conn *ims_connguard_open(struct ims_connguard *g, int fd, const char *ip)
{
	struct ims_connguard_conn *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->fd = fd;
	c->waiting = true;
	snprintf(c->ip, sizeof c->ip, "%s", ip);
	pthread_mutex_lock(&g->mu);
	c->limit_ms = g->timeout_ms;
	c->deadline = now_ms() + c->limit_ms;
	c->next = g->head;
	if (g->head)
		g->head->prev = c;
	g->head = c;
	pthread_mutex_unlock(&g->mu);
	return c;
}

void ims_connguard_head_done(struct ims_connguard *g, struct ims_connguard_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	c->waiting = false;
	pthread_mutex_unlock(&g->mu);
}

void ims_connguard_request_done(struct ims_connguard *g, struct ims_connguard_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	c->waiting = true;
	c->limit_ms = g->next_ms;
	c->deadline = now_ms() + c->limit_ms;
	pthread_mutex_unlock(&g->mu);
}

void ims_connguard_close(struct ims_connguard *g, struct ims_connguard_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&g->mu);
	free(c);
}
