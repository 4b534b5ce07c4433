/* Redis Cluster key routing: CRC16 (XMODEM), hash tags and the key
 * positions of a command, exactly as the Redis Cluster specification
 * (https://redis.io/docs/reference/cluster-spec/, "Keys distribution
 * model") defines them.  Pure functions, no I/O: lib/store*.c route with
 * them and the unit tests check them against the spec's vectors. */
#ifndef IMS_KEYSLOT_H
#define IMS_KEYSLOT_H

#include <stddef.h>
#include <stdint.h>

#define IMS_KEYSLOT_COUNT 16384

/* Results of ims_keyslot_cmd besides a slot number. */
#define IMS_KEYSLOT_NONE  (-1) /* the command names no key: any node */
#define IMS_KEYSLOT_CROSS (-2) /* its keys lie in more than one slot */

/* CRC16-CCITT (XMODEM: poly 0x1021, init 0) of len bytes. */
uint16_t ims_crc16(const void *p, size_t len);

/* The slot of a key: CRC16 of the hash tag (the bytes between the first
 * '{' and the first '}' after it, when not empty) or of the whole key,
 * modulo 16384. */
int ims_keyslot(const void *key, size_t len);

/* The bytes of key its slot is computed from: the hash tag, or the whole
 * key (*hlen their length; a pointer into key).  Two keys with the same
 * hashed bytes are in the same slot. */
const char *ims_keyslot_hashed(const void *key, size_t len, size_t *hlen);

/* 1 when command name (any case) has its one key at argv[1], as most do. */
int ims_keyslot_first_only(const char *name, size_t len);

/* The slot of one command (hiredis argv form; argv[0] the command name,
 * any case): IMS_KEYSLOT_NONE when it has no key (PING, MULTI, SCAN,
 * EVAL with numkeys 0, ...), IMS_KEYSLOT_CROSS when its keys are in
 * several slots, else the slot of all its keys.  Key positions come from
 * a small table (most commands: argv[1]; MSET, DEL, MGET, EVAL, FCALL,
 * XREAD, ZUNIONSTORE, BLPOP and the like by their own rules); a command
 * missing from the table has its key at argv[1]. */
int ims_keyslot_cmd(int argc, const char *const *argv, const size_t *lens);

#endif
