/* Fuzz target: an event as a SIEM gets it (lib/siem.c: JSON, CEF, the
 * RFC 5424 frame) and the milter's log quoting (ims_log_quote).  The input
 * is split at NUL bytes into name/value pairs, as a stream entry holds
 * them: every field may be a sender's text.  A CEF line never holds a raw
 * line break, an unescaped '=' in a value, or more than 7 unescaped '|'. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "siem.h"

#define MAXF 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *p, *line, quoted[128];
	const char *kv[MAXF];
	size_t n = 0, len, pipes = 0;
	struct ims_siem_event e;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf; p <= buf + size && n < MAXF; p += strlen(p) + 1)
		kv[n++] = p;
	if (n % 2)
		n--;
	e = (struct ims_siem_event){"1-0", kv, n / 2};
	if ((line = ims_siem_cef(&e))) {
		for (const char *q = line; *q; q++) {
			if (*q == '\n' || *q == '\r')
				__builtin_trap();
			if (*q == '\\' && q[1]) {
				q++;
				continue;
			}
			if (*q == '|')
				pipes++;
		}
		if (pipes < 7)
			__builtin_trap();
		free(line);
	}
	if ((line = ims_siem_json(&e))) {
		char *frame = ims_siem_syslog(&e, line, LOG_LOCAL0, 1, &len);

		if (frame && strlen(frame) != len)
			__builtin_trap();
		free(frame);
		free(line);
	}
	for (size_t i = 0; i < n; i++) {
		ims_log_quote(quoted, sizeof quoted, kv[i]);
		len = strlen(quoted);
		if (len >= sizeof quoted || quoted[0] != '"' || quoted[len - 1] != '"' ||
		    strpbrk(quoted, "\r\n"))
			__builtin_trap();
	}
	free(buf);
	return 0;
}
