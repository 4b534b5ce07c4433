/* Redis Cluster key routing (see keyslot.h). */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "keyslot.h"

uint16_t ims_crc16(const void *p, size_t len)
{
	static uint16_t table[256];
	static int ready; /* benign race: every thread computes the same table */
	const unsigned char *b = p;
	uint16_t crc = 0;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		for (unsigned i = 0; i < 256; i++) {
			uint16_t c = (uint16_t)(i << 8);
			for (int k = 0; k < 8; k++)
				c = (uint16_t)(c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1);
			__atomic_store_n(&table[i], c, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	for (size_t i = 0; i < len; i++)
		crc = (uint16_t)((crc << 8) ^ table[((crc >> 8) ^ b[i]) & 0xff]);
	return crc;
}

int ims_keyslot(const void *key, size_t len)
{
	const char *k = key, *open = memchr(k, '{', len);

	if (open) {
		size_t from = (size_t)(open - k) + 1;
		const char *close = memchr(open + 1, '}', len - from);
		if (close && close > open + 1)
			return ims_crc16(open + 1, (size_t)(close - open - 1)) &
			       (IMS_KEYSLOT_COUNT - 1);
	}
	return ims_crc16(k, len) & (IMS_KEYSLOT_COUNT - 1);
}

/* How a command names its keys. */
enum keys_form {
	K_NONE,     /* no key */
	K_FIRST,    /* argv[1] */
	K_SECOND,   /* argv[2] (OBJECT ENCODING key, XINFO STREAM key, ...) */
	K_ALL,      /* argv[1..] (DEL, MGET, EXISTS, WATCH, ...) */
	K_PAIRS,    /* argv[1], argv[3], ... (MSET) */
	K_ALL_BUT1, /* argv[1..argc-2] (BLPOP k... timeout) */
	K_NUMKEYS,  /* argv[2] numkeys, keys argv[3..] (EVAL, FCALL) */
	K_DEST_NUM, /* argv[1] dest, argv[2] numkeys, keys argv[3..] (ZUNIONSTORE) */
	K_STREAMS,  /* the first half of the arguments after STREAMS (XREAD) */
	K_TWO,      /* argv[1] and argv[2] (RENAME, SMOVE, LMOVE, COPY) */
};

static const struct {
	const char *name;
	enum keys_form form;
} forms[] = {
    {"ASKING", K_NONE},
    {"AUTH", K_NONE},
    {"BLMOVE", K_TWO},
    {"BLPOP", K_ALL_BUT1},
    {"BRPOP", K_ALL_BUT1},
    {"BRPOPLPUSH", K_TWO},
    {"BZPOPMAX", K_ALL_BUT1},
    {"BZPOPMIN", K_ALL_BUT1},
    {"CLIENT", K_NONE},
    {"CLUSTER", K_NONE},
    {"COMMAND", K_NONE},
    {"CONFIG", K_NONE},
    {"COPY", K_TWO},
    {"DBSIZE", K_NONE},
    {"DEL", K_ALL},
    {"DISCARD", K_NONE},
    {"ECHO", K_NONE},
    {"EVAL", K_NUMKEYS},
    {"EVAL_RO", K_NUMKEYS},
    {"EVALSHA", K_NUMKEYS},
    {"EVALSHA_RO", K_NUMKEYS},
    {"EXEC", K_NONE},
    {"EXISTS", K_ALL},
    {"FCALL", K_NUMKEYS},
    {"FCALL_RO", K_NUMKEYS},
    {"FLUSHALL", K_NONE},
    {"FLUSHDB", K_NONE},
    {"FUNCTION", K_NONE},
    {"HELLO", K_NONE},
    {"INFO", K_NONE},
    {"KEYS", K_NONE},
    {"LMOVE", K_TWO},
    {"MEMORY", K_SECOND},
    {"MGET", K_ALL},
    {"MSET", K_PAIRS},
    {"MSETNX", K_PAIRS},
    {"MULTI", K_NONE},
    {"OBJECT", K_SECOND},
    {"PING", K_NONE},
    {"PUBLISH", K_NONE},
    {"RANDOMKEY", K_NONE},
    {"READONLY", K_NONE},
    {"READWRITE", K_NONE},
    {"RENAME", K_TWO},
    {"RENAMENX", K_TWO},
    {"RPOPLPUSH", K_TWO},
    {"SCAN", K_NONE},
    {"SCRIPT", K_NONE},
    {"SDIFF", K_ALL},
    {"SDIFFSTORE", K_ALL},
    {"SELECT", K_NONE},
    {"SINTER", K_ALL},
    {"SINTERSTORE", K_ALL},
    {"SMOVE", K_TWO},
    {"SUNION", K_ALL},
    {"SUNIONSTORE", K_ALL},
    {"TIME", K_NONE},
    {"TOUCH", K_ALL},
    {"UNLINK", K_ALL},
    {"UNWATCH", K_NONE},
    {"WAIT", K_NONE},
    {"WATCH", K_ALL},
    {"XGROUP", K_SECOND},
    {"XINFO", K_SECOND},
    {"XREAD", K_STREAMS},
    {"XREADGROUP", K_STREAMS},
    {"ZDIFFSTORE", K_DEST_NUM},
    {"ZINTERSTORE", K_DEST_NUM},
    {"ZUNIONSTORE", K_DEST_NUM},
};

static enum keys_form form_of(const char *name, size_t len)
{
	size_t lo = 0, hi = sizeof forms / sizeof forms[0];

	while (lo < hi) { /* forms[] is sorted by name */
		size_t mid = (lo + hi) / 2;
		int c = strncasecmp(name, forms[mid].name, len);
		if (c == 0 && forms[mid].name[len] != '\0')
			c = -1;
		if (c == 0)
			return forms[mid].form;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return K_FIRST;
}

/* Adds key argv[i] to *slot; returns 0, or -1 when it is in another slot. */
static int add_key(int *slot, const char *k, size_t len)
{
	int s = ims_keyslot(k, len);

	if (*slot == IMS_KEYSLOT_NONE)
		*slot = s;
	return *slot == s ? 0 : -1;
}

/* Parses a non-negative decimal argument; -1 when it is not one. */
static long num_arg(const char *p, size_t len)
{
	long n = 0;

	if (len == 0 || len > 9)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		n = n * 10 + (p[i] - '0');
	}
	return n;
}

int ims_keyslot_cmd(int argc, const char *const *argv, const size_t *lens)
{
	int slot = IMS_KEYSLOT_NONE, from = 1, to = 0, step = 1;
	size_t l0;
	long nk;

#define LEN(i) (lens ? lens[i] : strlen(argv[i]))
	if (argc < 1)
		return IMS_KEYSLOT_NONE;
	l0 = LEN(0);
	switch (form_of(argv[0], l0)) {
	case K_NONE: return IMS_KEYSLOT_NONE;
	case K_FIRST: to = argc > 1 ? 1 : 0; break;
	case K_SECOND:
		from = 2;
		to = argc > 2 ? 2 : 0;
		break;
	case K_ALL: to = argc - 1; break;
	case K_PAIRS:
		to = argc - 1;
		step = 2;
		break;
	case K_ALL_BUT1: to = argc - 2; break;
	case K_TWO: to = argc > 2 ? 2 : argc - 1; break;
	case K_NUMKEYS:
	case K_DEST_NUM:
		if (argc < 3 || (nk = num_arg(argv[2], LEN(2))) < 0 || nk > argc - 3)
			return IMS_KEYSLOT_NONE; /* Redis refuses it */
		if (form_of(argv[0], l0) == K_DEST_NUM && add_key(&slot, argv[1], LEN(1)))
			return IMS_KEYSLOT_CROSS;
		from = 3;
		to = 2 + (int)nk;
		break;
	case K_STREAMS:
		for (int i = 1; i < argc; i++)
			if (LEN(i) == 7 && strncasecmp(argv[i], "STREAMS", 7) == 0) {
				from = i + 1;
				to = i + (argc - i - 1) / 2;
				break;
			}
		break;
	}
	for (int i = from; i <= to; i += step)
		if (add_key(&slot, argv[i], LEN(i)))
			return IMS_KEYSLOT_CROSS;
	return slot;
#undef LEN
}
