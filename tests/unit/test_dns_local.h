/* In-process DNS for the unit tests of lib/dns and the modules on top of it:
 * the records a test needs are loaded into libunbound's local data
 * (ims_dns_new_local), so no server, no Python and no network are needed.
 * Records are given as JSON text, in the shape tests/harness/dns.py takes
 * for the integration tests: {"name": [["TYPE", data], ...]} with
 *   TXT      a string (split into 255-byte character-strings) or a list of them
 *   MX       [preference, "host"] or "10 host"
 *   CNAME, PTR, NS  "host"
 *   A, AAAA  the address
 *   TIMEOUT  null: every query at or below the name fails (REFUSED, which
 *            ims maps to a temporary error like SERVFAIL or a timeout)
 * A name may start with "*." (a wildcard): libunbound's local data has no
 * wildcards, so the parent becomes a "redirect" zone whose records answer
 * for every name under it, the parent itself included. */
#ifndef IMS_TEST_DNS_LOCAL_H
#define IMS_TEST_DNS_LOCAL_H

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"

/* Appends s as one quoted character-string to out (zone-file escapes). */
static inline int test_dns_quote(char *out, size_t outlen, size_t *at, const char *s, size_t n)
{
	if (*at + 1 >= outlen)
		return -1;
	out[(*at)++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int w;

		if (c == '"' || c == '\\' || c < 0x20 || c > 0x7e)
			w = snprintf(out + *at, outlen - *at, "\\%03u", c);
		else
			w = snprintf(out + *at, outlen - *at, "%c", c);
		if (w < 0 || (size_t)w >= outlen - *at)
			return -1;
		*at += (size_t)w;
	}
	if (*at + 2 >= outlen)
		return -1;
	out[(*at)++] = '"';
	out[(*at)++] = ' ';
	out[*at] = '\0';
	return 0;
}

/* One JSON record -> one local-data line in out; -1 when it has no such
 * form. */
static inline int test_dns_rr(const char *name, const char *type, json_t *data, char *out,
                              size_t outlen)
{
	size_t at;
	int w =
	    snprintf(out, outlen, "%s. 300 IN %s ", name, strcmp(type, "SPF") == 0 ? "TXT" : type);

	if (w < 0 || (size_t)w >= outlen)
		return -1;
	at = (size_t)w;
	if (strcmp(type, "TXT") == 0 || strcmp(type, "SPF") == 0) {
		if (json_is_string(data)) {
			const char *s = json_string_value(data);
			size_t n = json_string_length(data), off = 0;

			do {
				size_t take = n - off > 255 ? 255 : n - off;
				if (test_dns_quote(out, outlen, &at, s + off, take) != 0)
					return -1;
				off += take;
			} while (off < n);
			return 0;
		}
		if (!json_is_array(data))
			return -1;
		for (size_t i = 0; i < json_array_size(data); i++) {
			json_t *e = json_array_get(data, i);
			if (!json_is_string(e) ||
			    test_dns_quote(out, outlen, &at, json_string_value(e),
			                   json_string_length(e)) != 0)
				return -1;
		}
		return 0;
	}
	if (strcmp(type, "MX") == 0 && json_is_array(data)) {
		json_t *pref = json_array_get(data, 0), *host = json_array_get(data, 1);
		if (!json_is_integer(pref) || !json_is_string(host))
			return -1;
		w = snprintf(out + at, outlen - at, "%lld %s.", (long long)json_integer_value(pref),
		             json_string_value(host));
	} else if (!json_is_string(data)) {
		return -1;
	} else if (strcmp(type, "CNAME") == 0 || strcmp(type, "PTR") == 0 ||
	           strcmp(type, "NS") == 0) {
		w = snprintf(out + at, outlen - at, "%s.", json_string_value(data));
	} else {
		w = snprintf(out + at, outlen - at, "%s", json_string_value(data));
	}
	return w < 0 || (size_t)w >= outlen - at ? -1 : 0;
}

/* A resolver answering only from records_json, with the given timeout.
 * NULL (with the reason on stderr) when the records cannot be loaded: the
 * test's setup failed. */
static inline struct ims_dns *test_dns_new(const char *records_json, int timeout_ms)
{
	struct ims_dns *dns = NULL;
	json_error_t jerr;
	json_t *root = json_loads(records_json, 0, &jerr), *recs;
	const char *name;
	char err[256] = "", line[8192];

	if (!json_is_object(root)) {
		fprintf(stderr, "test DNS records: not a JSON object (%s)\n", jerr.text);
		goto fail;
	}
	if (ims_dns_new_local(timeout_ms, &dns, err, sizeof err) != IMS_OK) {
		fprintf(stderr, "test DNS: %s\n", err);
		goto fail;
	}
	/* zones first (libunbound takes them before the first record) */
	json_object_foreach(root, name, recs)
	{
		const char *first = json_string_value(json_array_get(json_array_get(recs, 0), 0));

		if (strncmp(name, "*.", 2) == 0 &&
		    ims_dns_local_zone(dns, name + 2, "redirect", err, sizeof err) != IMS_OK)
			goto bad;
		if (first && strcmp(first, "TIMEOUT") == 0 &&
		    ims_dns_local_zone(dns, name, "refuse", err, sizeof err) != IMS_OK)
			goto bad;
	}
	json_object_foreach(root, name, recs)
	{
		for (size_t i = 0; i < json_array_size(recs); i++) {
			json_t *rec = json_array_get(recs, i);
			const char *type = json_string_value(json_array_get(rec, 0));
			json_t *data = json_array_get(rec, 1);

			if (type && strcmp(type, "TIMEOUT") == 0) {
				if (i > 0) {
					snprintf(err, sizeof err, "TIMEOUT must come first");
					goto bad;
				}
				continue;
			}
			const char *owner = strncmp(name, "*.", 2) == 0 ? name + 2 : name;

			if (!type || test_dns_rr(owner, type, data, line, sizeof line) != 0) {
				snprintf(err, sizeof err, "record %zu cannot be written", i);
				goto bad;
			}
			if (ims_dns_local_data(dns, line, err, sizeof err) != IMS_OK)
				goto bad;
		}
	}
	json_decref(root);
	return dns;
bad:
	fprintf(stderr, "test DNS records of %s: %s\n", name, err);
fail:
	ims_dns_free(dns);
	json_decref(root);
	return NULL;
}

#endif
