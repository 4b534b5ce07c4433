/* A small, bounded RFC 5322 splitter: raw message bytes -> header fields
 * and body.  This is the raw layer DKIM needs (it sees every header field
 * exactly as it was received); MIME decoding lives elsewhere (GMime).
 *
 * Line ends may be CRLF or bare LF, mixed.  The parser is lenient the way
 * MTAs are: an mbox "From " line in front is skipped, a header section that
 * runs to the end of the data is a message without a body, and the first
 * line that is neither a header field nor a continuation ends the header
 * section and starts the body (as Postfix's cleanup does).
 *
 * Limits: more than max_headers fields, or one field (name, colon, value
 * and its folding) longer than max_header_size bytes, is IMS_ELIMIT. */
#ifndef IMS_RFC5322_H
#define IMS_RFC5322_H

#include <stddef.h>

#include "status.h"

struct ims_msg;

/* Parses len bytes at raw.  The message keeps its own copy of the bytes,
 * so raw may be freed afterwards.  On IMS_OK *out is a new message that the
 * caller frees with ims_msg_free.
 * Errors: IMS_EINVAL (NULL arguments), IMS_ELIMIT (over a limit),
 * IMS_EFORMAT (no header field at all: the data does not start with a
 * header), IMS_ENOMEM. */
ims_status ims_msg_parse(const char *raw, size_t len, size_t max_headers, size_t max_header_size,
                         struct ims_msg **out);

void ims_msg_free(struct ims_msg *m);

/* Number of header fields, in message order. */
size_t ims_msg_header_count(const struct ims_msg *m);

/* Header field i (0-based).  *name is the field name (NUL-terminated, as
 * written, without the colon).  *value is everything after the colon up to
 * the end of the field, folding line ends included and the final line end
 * excluded, exactly as received ("  x\r\n\ty"); it is NUL-terminated and
 * *value_len gives its length (values may contain NUL bytes).  Both
 * pointers belong to m.  Returns IMS_EINVAL when i is out of range. */
ims_status ims_msg_header(const struct ims_msg *m, size_t i, const char **name, const char **value,
                          size_t *value_len);

/* The whole field i as received ("Name: value", folding included, final
 * line end excluded).  Not NUL-terminated; the bytes belong to m. */
ims_status ims_msg_header_field(const struct ims_msg *m, size_t i, const char **field, size_t *len);

/* Raw value of the nth (0-based) field called name (case-insensitive),
 * or NULL.  The string belongs to m. */
const char *ims_msg_find(const struct ims_msg *m, const char *name, size_t nth);

/* Number of fields called name (case-insensitive). */
size_t ims_msg_count(const struct ims_msg *m, const char *name);

/* The body (after the empty line), as received; may be empty.  Belongs to m. */
const char *ims_msg_body(const struct ims_msg *m, size_t *len);

/* The message at raw with new header fields in front: `prepend` (plen
 * bytes of complete fields, each ending in eol), then the message's own
 * fields in order except those drop(name) says to leave out, each ended
 * with eol, the blank line and the body as received.  Text with no header
 * section (IMS_EFORMAT from ims_msg_parse: its first line starts with a
 * space, say) becomes prepend, a blank line, and all of the text as body,
 * so none of it can turn into a header field.  The limits are
 * ims_msg_parse's.  *out (NUL-terminated, *outlen bytes) is the caller's
 * (free()).  IMS_ELIMIT, IMS_ENOMEM, IMS_EINVAL. */
ims_status ims_msg_reheader(const char *raw, size_t len, size_t max_headers, size_t max_header_size,
                            const char *prepend, size_t plen, int (*drop)(const char *name),
                            const char *eol, char **out, size_t *outlen);

/* Number of From header fields (RFC 5322 allows exactly one). */
size_t ims_msg_from_count(const struct ims_msg *m);

/* Domain of the RFC5322.From address, parsed with GMime's address parser
 * from the first From field: in ASCII (IDN labels as xn-- A-labels),
 * lower-cased and copied into out (outlen bytes).  *naddr (may be NULL)
 * gets the number of mailboxes in that field (DMARC wants exactly one).
 * Returns IMS_ENOTFOUND when there is no From field or no mailbox with a
 * domain in it, IMS_ELIMIT when the domain does not fit in out. */
ims_status ims_msg_from_domain(const struct ims_msg *m, char *out, size_t outlen, size_t *naddr);

/* Calls fn for every mailbox of every From field (groups included), in
 * message order, with its addr-spec parsed by GMime: the domain in ASCII
 * (A-labels) and lower-cased, a trailing dot dropped, the local part as
 * written; at most IMS_MSG_ADDR_MAX bytes (longer ones are passed as ""
 * so a caller never matches them).  Stops when fn returns non-zero.
 * IMS_OK when at least one mailbox was seen, IMS_ENOTFOUND when none,
 * IMS_ENOMEM. */
#define IMS_MSG_ADDR_MAX 320
ims_status ims_msg_from_addrs(const struct ims_msg *m, int (*fn)(const char *addr, void *arg),
                              void *arg);

#endif
