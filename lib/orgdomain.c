#include "config.h"

#include <libpsl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "orgdomain.h"

static const psl_ctx_t *psl;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

static void psl_load(void)
{
	/* the system's list (compiled form, then text: the file libopendmarc
	 * reads too, dmarc.c), else the built-in */
	psl = psl_load_file(IMS_PUBLIC_SUFFIX_DAFSA);
	if (!psl)
		psl = psl_load_file(IMS_PUBLIC_SUFFIX_LIST);
	if (!psl)
		psl = psl_builtin();
}

/* A small per-thread cache of recent answers: the classifier asks for the
 * same few hosts over and over (headers, links, the text), and a libpsl
 * lookup costs some thousand instructions (docs/benchmarks.md).  The
 * registrable domain is a suffix of the name, so an entry keeps where it
 * starts (-1: none). */
#define CACHE_SLOTS 256
#define CACHE_HOST  64
static _Thread_local struct {
	char host[CACHE_HOST];
	short start;
} cache[CACHE_SLOTS];

static unsigned slot_of(const char *s, size_t n)
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h % CACHE_SLOTS;
}

static ims_status answer(const char *lower, int start, char *out, size_t outlen)
{
	if (start < 0)
		return IMS_ENOTFOUND;
	if ((size_t)snprintf(out, outlen, "%s", lower + start) >= outlen) {
		if (outlen)
			out[0] = '\0';
		return IMS_ELIMIT;
	}
	return IMS_OK;
}

ims_status ims_orgdomain(const char *host, char *out, size_t outlen)
{
	char lower[256];
	size_t n = host ? strlen(host) : 0;
	const char *reg;
	unsigned slot = 0;
	int start;

	if (outlen)
		out[0] = '\0';
	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof lower)
		return n == 0 ? IMS_ENOTFOUND : IMS_EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c <= ' ' || c == 0x7f || c == '/' || c == '@' || c == ':' || c == '[')
			return IMS_ENOTFOUND; /* not a host name (an IP literal, a URL) */
		lower[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	lower[n] = '\0';
	if (strspn(lower, "0123456789.") == n)
		return IMS_ENOTFOUND; /* dotted quad */
	if (n < CACHE_HOST) {
		slot = slot_of(lower, n);
		if (strcmp(cache[slot].host, lower) == 0)
			return answer(lower, cache[slot].start, out, outlen);
	}
	pthread_once(&psl_once, psl_load);
	if (!psl)
		return IMS_ENOTFOUND;
	reg = psl_registrable_domain(psl, lower);
	if (reg && *reg && (reg < lower || reg >= lower + n)) /* not a suffix: no cache */
		return (size_t)snprintf(out, outlen, "%s", reg) < outlen ? IMS_OK : IMS_ELIMIT;
	start = reg && *reg ? (int)(reg - lower) : -1;
	if (n < CACHE_HOST) {
		memcpy(cache[slot].host, lower, n + 1);
		cache[slot].start = (short)start;
	}
	return answer(lower, start, out, outlen);
}
