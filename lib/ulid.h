/* ULIDs: the scan ids of ims (docs/redis-schema.md).
 *
 * 26 characters of Crockford base32: a 48-bit millisecond timestamp, then
 * 80 random bits (libsodium), so ids sort by creation time. */
#ifndef IMS_ULID_H
#define IMS_ULID_H

#include <stdint.h>

#define IMS_ULID_LEN 26

/* Writes a new id and its NUL into out (IMS_ULID_LEN + 1 bytes).  now_ms is
 * the timestamp to encode (Unix milliseconds). */
void ims_ulid_make(char out[IMS_ULID_LEN + 1], uint64_t now_ms);

/* The current time in Unix milliseconds (CLOCK_REALTIME). */
uint64_t ims_now_ms(void);

/* True when s is a well-formed ULID (26 Crockford base32 characters). */
int ims_ulid_valid(const char *s);

#endif
