#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "replyarena.h"

#define CHUNK     (64 * 1024)        /* under glibc's mmap threshold */
#define MAX_BYTES (64 * 1024 * 1024) /* one request never holds more */

struct chunk {
	struct chunk *next;
	size_t used, size;
	char data[];
};

static _Thread_local struct chunk *chunks; /* newest first */
static _Thread_local size_t total;
static _Thread_local redisReplyObjectFunctions *saved;

static void *aalloc(size_t n)
{
	struct chunk *c = chunks;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->size - c->used < n) {
		size_t size = n > CHUNK ? n : CHUNK;

		if (total + size > MAX_BYTES)
			return NULL;
		c = malloc(sizeof *c + size);
		if (!c)
			return NULL;
		c->next = chunks;
		c->used = 0;
		c->size = size;
		chunks = c;
		total += size;
	}
	c->used += n;
	return c->data + c->used - n;
}

static redisReply *reply(const redisReadTask *task)
{
	redisReply *r = aalloc(sizeof *r);

	if (!r)
		return NULL;
	memset(r, 0, sizeof *r);
	r->type = task->type;
	if (task->parent) {
		redisReply *p = task->parent->obj;

		p->element[task->idx] = r;
	}
	return r;
}

static void *create_string(const redisReadTask *task, char *str, size_t len)
{
	redisReply *r = reply(task);
	char *s = r ? aalloc(len + 1) : NULL;

	if (!s)
		return NULL;
	memcpy(s, str, len);
	s[len] = '\0';
	r->str = s;
	r->len = len;
	return r;
}

static void *create_array(const redisReadTask *task, int elements)
{
	redisReply *r = reply(task);

	if (!r)
		return NULL;
	if (elements > 0) {
		r->element = aalloc((size_t)elements * sizeof *r->element);
		if (!r->element)
			return NULL;
		memset(r->element, 0, (size_t)elements * sizeof *r->element);
	}
	r->elements = (size_t)elements;
	return r;
}

static void *create_integer(const redisReadTask *task, long long value)
{
	redisReply *r = reply(task);

	if (r)
		r->integer = value;
	return r;
}

static void *create_nil(const redisReadTask *task)
{
	return reply(task);
}

static void free_object(void *p)
{
	(void)p; /* released with the arena */
}

static redisReplyObjectFunctions arena_fns = {create_string, create_array, create_integer,
                                              create_nil, free_object};

void ims_replyarena_begin(redisContext *c)
{
	saved = c->reader->fn;
	c->reader->fn = &arena_fns;
}

bool ims_replyarena_active(const redisContext *c)
{
	return c && c->reader && c->reader->fn == &arena_fns;
}

void ims_replyarena_end(redisContext *c)
{
	if (c && c->reader->fn == &arena_fns)
		c->reader->fn = saved;
	while (chunks) {
		struct chunk *next = chunks->next;

		free(chunks);
		chunks = next;
	}
	total = 0;
}
