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
	/* the system's list, the file libopendmarc reads too (dmarc.c), else
	 * the built-in */
	psl = psl_load_file(IMS_PUBLIC_SUFFIX_LIST);
	if (!psl)
		psl = psl_builtin();
}

ims_status ims_orgdomain(const char *host, char *out, size_t outlen)
{
	char lower[256];
	size_t n = host ? strlen(host) : 0;
	const char *reg;

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
	pthread_once(&psl_once, psl_load);
	if (!psl)
		return IMS_ENOTFOUND;
	reg = psl_registrable_domain(psl, lower);
	if (!reg || !*reg)
		return IMS_ENOTFOUND;
	if ((size_t)snprintf(out, outlen, "%s", reg) >= outlen) {
		if (outlen)
			out[0] = '\0';
		return IMS_ELIMIT;
	}
	return IMS_OK;
}
