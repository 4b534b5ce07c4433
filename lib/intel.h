/* Local threat intelligence: block and allow lists in files that an
 * operator or a feed script drops in one directory ([intel] dir).
 *
 * One file per list: NAME.block or NAME.allow (NAME is the list's name in
 * the symbols' detail); other files (hidden ones, a feed's NAME.block.tmp
 * before its rename) are ignored.  One entry per line; blank lines and
 * lines starting with '#' are skipped, and " #..." ends a line:
 *
 *     198.51.100.7             an address
 *     203.0.113.0/24           a network (IPv4 or IPv6 CIDR)
 *     evil.example             a domain and every name under it
 *     https://x.example/p?q=1  a URL (scheme, host, port, path, query)
 *     sha256:9f86d0...  (or the 64 hex digits alone)  a file's SHA-256
 *
 * A line that is none of these is logged with its file and line and
 * skipped; the rest of the file still counts.  [intel] max_entries bounds
 * the entries of all files together.
 *
 * A loaded set is immutable and reference-counted.  ims_intel_acquire
 * looks at the directory at most every IMS_INTEL_CHECK_MS (a stat of each
 * list file) and, when a file was added, removed or replaced, loads a new
 * set in a thread of its own (a million entries take seconds) and swaps it
 * in when it is read: scans go on with the set they have meanwhile, and
 * scans in flight keep the set they started with. */
#ifndef IMS_INTEL_H
#define IMS_INTEL_H

#include <stddef.h>

#include "status.h"

#define IMS_INTEL_CHECK_MS  2000
#define IMS_INTEL_ENTRY_MAX 2048 /* longest entry (a URL) */

struct ims_intel;     /* the watcher of one directory */
struct ims_intel_set; /* one loaded snapshot */

enum ims_intel_kind { IMS_INTEL_NET, IMS_INTEL_DOMAIN, IMS_INTEL_URL, IMS_INTEL_SHA256 };

/* Parses one line of a list file.  IMS_OK: *kind and the normalised entry
 * in norm ("203.0.113.0/24", "evil.example", the URL rebuilt, 64 lower-case
 * hex digits); IMS_ENOTFOUND for a blank or comment line; IMS_EINVAL with
 * why set for anything else. */
ims_status ims_intel_parse_line(const char *line, enum ims_intel_kind *kind, char *norm,
                                size_t normlen, char *why, size_t whylen);

/* Normalises a URL as list entries are (lower-case scheme and host, no
 * user, no fragment).  IMS_EINVAL when it is not an absolute URL. */
ims_status ims_intel_url_norm(const char *url, char *out, size_t outlen);

/* Loads every list file of dir into a new set (one reference, the
 * caller's).  A missing or unreadable directory is IMS_EIO (err says why). */
ims_status ims_intel_load(const char *dir, int max_entries, struct ims_intel_set **out, char *err,
                          size_t errlen);
struct ims_intel_set *ims_intel_set_ref(struct ims_intel_set *s);
void ims_intel_set_unref(struct ims_intel_set *s);
/* Entries in the set (all lists). */
size_t ims_intel_set_size(const struct ims_intel_set *s);

/* A watcher of dir (copied).  *out is the caller's (ims_intel_free).  The
 * first load happens here; a directory that cannot be read is logged and
 * gives an empty set until it can. */
ims_status ims_intel_new(const char *dir, int max_entries, struct ims_intel **out);
void ims_intel_free(struct ims_intel *w);
/* The current set, with a reference the caller drops (ims_intel_set_unref);
 * reloads first when the files changed (above).  Never NULL. */
struct ims_intel_set *ims_intel_acquire(struct ims_intel *w);
/* Checks now, whatever the time since the last check, and loads a change
 * in the calling thread (tests). */
void ims_intel_check_now(struct ims_intel *w);

/* A match: the list's name and the entry that matched (owned by the set). */
struct ims_intel_hit {
	const char *list;
	const char *entry;
};

/* Looks value up among the allow lists (allow = 1) or the block lists
 * (allow = 0).  Returns 1 and fills *hit on a match.
 *   ip:     the address, in every listed network of its family
 *   domain: the name and each parent ("a.b.example" also checks
 *           "b.example" and "example")
 *   url:    the normalised URL
 *   sha256: 64 hex digits */
int ims_intel_match_ip(const struct ims_intel_set *s, int allow, const char *ip,
                       struct ims_intel_hit *hit);
int ims_intel_match_domain(const struct ims_intel_set *s, int allow, const char *domain,
                           struct ims_intel_hit *hit);
int ims_intel_match_url(const struct ims_intel_set *s, int allow, const char *url,
                        struct ims_intel_hit *hit);
int ims_intel_match_sha256(const struct ims_intel_set *s, int allow, const char *hex,
                           struct ims_intel_hit *hit);
/* 1 when the set has any hash entry (the scan hashes attachments only then). */
int ims_intel_has_hashes(const struct ims_intel_set *s);

#endif
