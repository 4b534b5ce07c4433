#include "config.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

#include "ulid.h"

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

uint64_t ims_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void ims_ulid_make(char out[IMS_ULID_LEN + 1], uint64_t now_ms)
{
	unsigned char rnd[10];

	/* 48-bit time: 10 characters, most significant first (the top 2 bits
	 * of the first character are always 0). */
	for (int i = 9; i >= 0; i--) {
		out[i] = b32[now_ms & 31u];
		now_ms >>= 5;
	}
	randombytes_buf(rnd, sizeof rnd);
	/* 80 random bits: 16 characters of 5 bits each. */
	for (int i = 0; i < 16; i++) {
		int bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)rnd[byte] << 8 | (byte + 1 < 10 ? rnd[byte + 1] : 0u);
		out[10 + i] = b32[(v >> (11 - shift)) & 31u];
	}
	out[IMS_ULID_LEN] = '\0';
}

int ims_ulid_valid(const char *s)
{
	if (!s || strlen(s) != IMS_ULID_LEN || s[0] > '7')
		return 0;
	for (const char *p = s; *p; p++)
		if (!strchr(b32, *p))
			return 0;
	return 1;
}
