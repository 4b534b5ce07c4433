/* Helpers the fuzz targets share: oracles that fail loudly (abort, which
 * libFuzzer and the replay driver both report as a crash), and DNS answers
 * taken from the fuzz input through the in-process resolver seam of
 * lib/dns (ims_dns_local_only). */
#ifndef IMS_FUZZ_COMMON_H
#define IMS_FUZZ_COMMON_H

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns.h"

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "."
#endif

__attribute__((format(printf, 1, 2), noreturn)) static void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz oracle failed: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* A file of the source tree (top_srcdir from make check, else the tree the
 * target was built from). */
static inline const char *fuzz_srcfile(const char *rel)
{
	static char buf[4096];
	const char *top = getenv("top_srcdir");

	snprintf(buf, sizeof buf, "%s/%s", top && *top ? top : FUZZ_SRCDIR, rel);
	return buf;
}

/* A private copy (mode 0600, in /tmp, removed at exit) of a secret file of
 * the source tree: the DKIM key, which git keeps 0644 and ims refuses when
 * other users may read it.  One per process; the path stays valid (targets
 * that build a checker per input read the key again each time). */
static inline char *fuzz_secret_path(void)
{
	static char path[64];

	return path;
}

static inline void fuzz_secret_remove(void)
{
	if (fuzz_secret_path()[0])
		unlink(fuzz_secret_path());
}

static inline const char *fuzz_private_copy(const char *rel)
{
	char buf[8192], *out = fuzz_secret_path();
	size_t n;
	FILE *in, *o;
	int fd;

	if (out[0])
		return out;
	in = fopen(fuzz_srcfile(rel), "rb");
	snprintf(out, 64, "/tmp/ims-fuzz-secret-XXXXXX");
	fd = mkstemp(out);
	if (!in || fd < 0 || !(o = fdopen(fd, "wb")))
		fuzz_fail("private copy of %s", rel);
	atexit(fuzz_secret_remove);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, o);
	fclose(in);
	fclose(o);
	return out;
}

/* A header field value ims writes must not be able to end the field or
 * start another: no NUL, every CR or LF is part of a line break (CRLF or
 * LF) followed by a space or tab (folding), and the value does not end in
 * a line break. */
static inline void fuzz_check_header_value(const char *what, const char *v)
{
	size_t n = strlen(v);

	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\r' && v[i + 1] != '\n')
			fuzz_fail("%s: bare CR at %zu in \"%s\"", what, i, v);
		if (v[i] == '\n' && (v[i + 1] != ' ' && v[i + 1] != '\t'))
			fuzz_fail("%s: line break not followed by white space at %zu in \"%s\"",
			          what, i, v);
	}
}

/* Splits the next line off [*p, end): returns its start and length, moves
 * *p past the LF; NULL at the end. */
static inline const char *fuzz_line(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *nl;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	*len = (size_t)((nl ? nl : end) - s);
	*p = nl ? nl + 1 : end;
	if (*len && s[*len - 1] == '\r')
		(*len)--;
	return s;
}

#define FUZZ_DNS_MAX 32

/* The records one input added (at most FUZZ_DNS_MAX).  The targets give
 * each input a resolver of its own rather than removing them: libunbound
 * keeps a removed record's memory until the resolver is freed. */
struct fuzz_dns {
	char names[FUZZ_DNS_MAX][256];
	size_t n;
};

static inline int fuzz_dns_name_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".-_*", *s))
			return 0;
	return 1;
}

/* One record line "NAME TYPE DATA" (TYPE: TXT, A, AAAA, MX, PTR, CNAME;
 * TXT data is any bytes, the others must look like what they are, so
 * libunbound is given only lines it can read).  Lines that do not fit are
 * ignored. */
static inline void fuzz_dns_add(struct ims_dns *dns, struct fuzz_dns *f, const char *line,
                                size_t len)
{
	char name[256], type[8], rr[4096];
	const char *sp1, *sp2, *data;
	size_t dlen, at;
	int w;

	if (f->n >= FUZZ_DNS_MAX)
		return;
	sp1 = memchr(line, ' ', len);
	if (!sp1 || (size_t)(sp1 - line) >= sizeof name - 1)
		return;
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line));
	if (!sp2 || (size_t)(sp2 - sp1 - 1) >= sizeof type)
		return;
	memcpy(name, line, (size_t)(sp1 - line));
	name[sp1 - line] = '\0';
	memcpy(type, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	type[sp2 - sp1 - 1] = '\0';
	data = sp2 + 1;
	dlen = len - (size_t)(data - line);
	if (!fuzz_dns_name_ok(name) || strstr(name, "..") || name[0] == '.')
		return;
	w = snprintf(rr, sizeof rr, "%s%s 60 IN %s ", name,
	             name[strlen(name) - 1] == '.' ? "" : ".", type);
	if (w < 0 || (size_t)w >= sizeof rr)
		return;
	at = (size_t)w;
	if (strcmp(type, "TXT") == 0) {
		/* character-strings of at most 255 bytes, every byte escaped */
		size_t i = 0;
		do {
			size_t take = dlen - i > 255 ? 255 : dlen - i;
			if (at + take * 4 + 4 >= sizeof rr)
				return;
			rr[at++] = '"';
			for (size_t k = 0; k < take; k++)
				at += (size_t)snprintf(rr + at, sizeof rr - at, "\\%03u",
				                       (unsigned char)data[i + k]);
			rr[at++] = '"';
			rr[at++] = ' ';
			i += take;
		} while (i < dlen);
		rr[at] = '\0';
	} else {
		char d[256];
		unsigned char addr[16];
		unsigned pref;
		char host[200];

		if (dlen >= sizeof d - 1)
			return;
		memcpy(d, data, dlen);
		d[dlen] = '\0';
		if (strcmp(type, "A") == 0) {
			if (inet_pton(AF_INET, d, addr) != 1)
				return;
		} else if (strcmp(type, "AAAA") == 0) {
			if (inet_pton(AF_INET6, d, addr) != 1)
				return;
		} else if (strcmp(type, "MX") == 0) {
			if (sscanf(d, "%u %199s", &pref, host) != 2 || pref > 65535 ||
			    !fuzz_dns_name_ok(host) || strstr(host, ".."))
				return;
			snprintf(d, sizeof d, "%u %s.", pref, host);
		} else if (strcmp(type, "PTR") == 0 || strcmp(type, "CNAME") == 0) {
			if (!fuzz_dns_name_ok(d) || strstr(d, "..") || d[0] == '.' ||
			    d[dlen - 1] == '.')
				return;
			d[dlen] = '.';
			d[dlen + 1] = '\0';
		} else {
			return;
		}
		if ((size_t)snprintf(rr + at, sizeof rr - at, "%s", d) >= sizeof rr - at)
			return;
	}
	if (ims_dns_local_data(dns, rr, NULL, 0) == IMS_OK)
		snprintf(f->names[f->n++], sizeof f->names[0], "%s", name);
}

#endif
