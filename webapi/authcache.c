#include "config.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "auth_token.h"
#include "authcache.h"

#define SLOTS 64

struct entry {
	char sub[IMS_USERS_ADDR_MAX + 1];
	char fam[IMS_TOKEN_FAMILY_LEN + 1];
	enum ims_role role;
	uint64_t until_ms;
	unsigned gen;
};

static _Thread_local struct entry cache[SLOTS];
static unsigned generation = 1; /* bumped by ims_authcache_clear */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The family is random hex: its first characters spread well. */
static size_t slot(const char *fam)
{
	size_t h = 0;

	for (int i = 0; i < 6 && fam[i]; i++)
		h = h * 31 + (unsigned char)fam[i];
	return h % SLOTS;
}

int ims_authcache_get(const char *sub, const char *fam, enum ims_role *role)
{
	struct entry *e = &cache[slot(fam)];

	if (e->gen != __atomic_load_n(&generation, __ATOMIC_ACQUIRE) || e->until_ms < now_ms() ||
	    strcmp(e->fam, fam) != 0 || strcmp(e->sub, sub) != 0)
		return 0;
	*role = e->role;
	return 1;
}

void ims_authcache_put(const char *sub, const char *fam, enum ims_role role)
{
	struct entry *e = &cache[slot(fam)];

	if (strlen(sub) >= sizeof e->sub || strlen(fam) >= sizeof e->fam)
		return;
	memcpy(e->sub, sub, strlen(sub) + 1);
	memcpy(e->fam, fam, strlen(fam) + 1);
	e->role = role;
	e->until_ms = now_ms() + IMS_AUTHCACHE_TTL_MS;
	e->gen = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
}

void ims_authcache_clear(void)
{
	__atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
}
