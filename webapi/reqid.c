#include "config.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "reqid.h"

bool ims_reqid_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];

		if (n >= IMS_REQID_MAX)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return false;
	}
	return n > 0;
}

/* Random bytes drawn from libsodium a batch at a time per thread: one
 * getrandom(2) per 64 request ids instead of one per request. */
static void random_10(unsigned char rnd[10])
{
	static _Thread_local unsigned char pool[640];
	static _Thread_local size_t used = sizeof pool;

	if (used + 10 > sizeof pool) {
		randombytes_buf(pool, sizeof pool);
		used = 0;
	}
	memcpy(rnd, pool + used, 10);
	used += 10;
}

void ims_reqid_pick(const char *from, char out[IMS_REQID_MAX + 1])
{
	static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	unsigned char rnd[10];
	struct timespec ts;
	uint64_t ms;

	if (ims_reqid_valid(from)) {
		memcpy(out, from, strlen(from) + 1);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	random_10(rnd);
	for (int i = 9; i >= 0; i--) {
		out[i] = b32[ms & 31];
		ms >>= 5;
	}
	/* 80 random bits as 16 characters */
	for (int i = 0; i < 16; i++) {
		int bit = i * 5, byte = bit / 8, off = bit % 8;
		unsigned v = (unsigned)rnd[byte] << 8 | (byte + 1 < 10 ? rnd[byte + 1] : 0);

		out[10 + i] = b32[(v >> (11 - off)) & 31];
	}
	out[26] = '\0';
}
