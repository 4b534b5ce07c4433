/* Redis Cluster key routing (see keyslot.h). */
#include "config.h"

#include <string.h>

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

const char *ims_keyslot_hashed(const void *key, size_t len, size_t *hlen)
{
	const char *k = key, *open = memchr(k, '{', len);

	if (open) {
		size_t from = (size_t)(open - k) + 1;
		const char *close = memchr(open + 1, '}', len - from);
		if (close && close > open + 1) {
			*hlen = (size_t)(close - open - 1);
			return open + 1;
		}
	}
	*hlen = len;
	return k;
}

int ims_keyslot(const void *key, size_t len)
{
	size_t hl;
	const char *h = ims_keyslot_hashed(key, len, &hl);

	return ims_crc16(h, hl) & (IMS_KEYSLOT_COUNT - 1);
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

#define F(name, form)                                                                              \
	{                                                                                          \
		name, sizeof name - 1, form                                                        \
	}
static const struct {
	const char *name;
	size_t len;
	enum keys_form form;
} forms[] = {
    F("ASKING", K_NONE),
    F("AUTH", K_NONE),
    F("BLMOVE", K_TWO),
    F("BLPOP", K_ALL_BUT1),
    F("BRPOP", K_ALL_BUT1),
    F("BRPOPLPUSH", K_TWO),
    F("BZPOPMAX", K_ALL_BUT1),
    F("BZPOPMIN", K_ALL_BUT1),
    F("CLIENT", K_NONE),
    F("CLUSTER", K_NONE),
    F("COMMAND", K_NONE),
    F("CONFIG", K_NONE),
    F("COPY", K_TWO),
    F("DBSIZE", K_NONE),
    F("DEL", K_ALL),
    F("DISCARD", K_NONE),
    F("ECHO", K_NONE),
    F("EVAL", K_NUMKEYS),
    F("EVAL_RO", K_NUMKEYS),
    F("EVALSHA", K_NUMKEYS),
    F("EVALSHA_RO", K_NUMKEYS),
    F("EXEC", K_NONE),
    F("EXISTS", K_ALL),
    F("FCALL", K_NUMKEYS),
    F("FCALL_RO", K_NUMKEYS),
    F("FLUSHALL", K_NONE),
    F("FLUSHDB", K_NONE),
    F("FUNCTION", K_NONE),
    F("HELLO", K_NONE),
    F("INFO", K_NONE),
    F("KEYS", K_NONE),
    F("LMOVE", K_TWO),
    F("MEMORY", K_SECOND),
    F("MGET", K_ALL),
    F("MSET", K_PAIRS),
    F("MSETNX", K_PAIRS),
    F("MULTI", K_NONE),
    F("OBJECT", K_SECOND),
    F("PING", K_NONE),
    F("PUBLISH", K_NONE),
    F("RANDOMKEY", K_NONE),
    F("READONLY", K_NONE),
    F("READWRITE", K_NONE),
    F("RENAME", K_TWO),
    F("RENAMENX", K_TWO),
    F("RPOPLPUSH", K_TWO),
    F("SCAN", K_NONE),
    F("SCRIPT", K_NONE),
    F("SDIFF", K_ALL),
    F("SDIFFSTORE", K_ALL),
    F("SELECT", K_NONE),
    F("SINTER", K_ALL),
    F("SINTERSTORE", K_ALL),
    F("SMOVE", K_TWO),
    F("SUNION", K_ALL),
    F("SUNIONSTORE", K_ALL),
    F("TIME", K_NONE),
    F("TOUCH", K_ALL),
    F("UNLINK", K_ALL),
    F("UNWATCH", K_NONE),
    F("WAIT", K_NONE),
    F("WATCH", K_ALL),
    F("XGROUP", K_SECOND),
    F("XINFO", K_SECOND),
    F("XREAD", K_STREAMS),
    F("XREADGROUP", K_STREAMS),
    F("ZDIFFSTORE", K_DEST_NUM),
    F("ZINTERSTORE", K_DEST_NUM),
    F("ZUNIONSTORE", K_DEST_NUM),
};
#undef F

/* strncasecmp for ASCII names (a has alen bytes, b ends at its NUL),
 * without the locale's cost. */
static int ascii_casecmp(const char *a, size_t alen, const char *b)
{
	for (size_t i = 0; i < alen; i++) {
		int x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (y == 0)
			return 1;
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return x - y;
	}
	return b[alen] == '\0' ? 0 : -1;
}

/* forms[] is sorted by lower-case name: the entries of one first letter
 * are together.  bucket[L] is the first entry of letter L ('A'..'Z'),
 * bucket[L + 1] the end; made once (a benign race: every thread computes
 * the same). */
static unsigned char bucket[27];
static int bucket_ready;

static void make_buckets(void)
{
	size_t n = sizeof forms / sizeof forms[0], i = 0;

	for (int l = 0; l < 26; l++) {
		__atomic_store_n(&bucket[l], (unsigned char)i, __ATOMIC_RELAXED);
		while (i < n && forms[i].name[0] == 'A' + l)
			i++;
	}
	__atomic_store_n(&bucket[26], (unsigned char)i, __ATOMIC_RELAXED);
	__atomic_store_n(&bucket_ready, 1, __ATOMIC_RELEASE);
}

static enum keys_form form_of(const char *name, size_t len)
{
	int l;

	if (len == 0)
		return K_FIRST;
	if (!__atomic_load_n(&bucket_ready, __ATOMIC_ACQUIRE))
		make_buckets();
	l = (unsigned char)name[0];
	if (l >= 'a' && l <= 'z')
		l -= 'a' - 'A';
	if (l < 'A' || l > 'Z')
		return K_FIRST;
	l -= 'A';
	for (size_t i = bucket[l]; i < bucket[l + 1]; i++)
		if (forms[i].len == len && ascii_casecmp(name, len, forms[i].name) == 0)
			return forms[i].form;
	return K_FIRST;
}

int ims_keyslot_first_only(const char *name, size_t len)
{
	return form_of(name, len) == K_FIRST;
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
