/* Registrable (organisational) domains from the Public Suffix List, through
 * libpsl: "a.b.example.co.uk" -> "example.co.uk".  The one implementation
 * for all of ims (the DNSBL/URIBL lookups use it today).
 *
 * Used by DMARC (the record lookup; libopendmarc's own alignment check is
 * given the same list file), the phishing and look-alike heuristics and
 * the classifier's host features, so they all agree
 * (tests/unit/test_orgdomain.c).
 *
 * The list is Debian's publicsuffix package: libpsl reads its compiled
 * form IMS_PUBLIC_SUFFIX_DAFSA (made from IMS_PUBLIC_SUFFIX_LIST by the
 * package, the text file libopendmarc reads; loading the DAFSA takes
 * microseconds where parsing the text takes ~30 million instructions, a
 * cost every `ims classify` would pay), else the text file, else the copy
 * built into libpsl; loaded once per process, then read-only and
 * thread-safe. */
#ifndef IMS_ORGDOMAIN_H
#define IMS_ORGDOMAIN_H

#include <stddef.h>

#include "status.h"

#define IMS_PUBLIC_SUFFIX_LIST  "/usr/share/publicsuffix/public_suffix_list.dat"
#define IMS_PUBLIC_SUFFIX_DAFSA "/usr/share/publicsuffix/public_suffix_list.dafsa"

/* Writes the registrable domain of host (lower case, no trailing dot) to
 * out.  IMS_ENOTFOUND when host has none (a public suffix such as "co.uk",
 * an IP literal, an empty or single-label name); IMS_ELIMIT when it does
 * not fit in outlen; IMS_EINVAL for a name that is not a host name. */
ims_status ims_orgdomain(const char *host, char *out, size_t outlen);

#endif
