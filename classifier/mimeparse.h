/* The one way ims hands a message to GMime's parser (the scan's parse in
 * message.c and the web mail view), bounded before GMime sees it.
 *
 * GMime matches every content line that starts with "--" against every
 * boundary of the multiparts open around it, so a message that nests
 * multiparts thousands deep costs seconds of CPU (160,000 levels in 10 MB:
 * 4.3 s) before any depth limit of ours can apply.  A linear pre-scan
 * counts the lines that start with "--" (B) and the occurrences of
 * "boundary" in any case followed by '=' or '*' (K: every nesting level
 * needs one such parameter, so the depth is at most K, and at most B).  When B x min(K, B), a bound
 * on GMime's boundary comparisons, is over IMS_MIME_MAX_BOUNDARY_WORK, only the header section is
 * parsed and the caller is told: the body's structure is then not looked at, and the caller reports
 * the limit. */
#ifndef IMS_MIMEPARSE_H
#define IMS_MIMEPARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <gmime/gmime.h>

/* Boundary comparisons GMime may do for one message: ordinary mail needs a
 * few thousand (a long thread with 20,000 "-- " lines and 20 "boundary"
 * mentions: 400,000). */
#define IMS_MIME_MAX_BOUNDARY_WORK 4000000ull

/* The pre-scan alone: true when raw (len bytes) is within the bound;
 * *work (may be NULL) gets the estimate B x min(K, B). */
bool ims_mime_work_ok(const char *raw, size_t len, unsigned long long *work);

/* Parses raw (len bytes; GMime keeps its own copy) with GMime in message
 * format and opts (may be NULL).  Over the bound only the
 * header section is parsed and *limited (may be NULL) is set to true.
 * Returns a new message the caller unrefs, or NULL when GMime cannot make
 * a message of the bytes at all. */
GMimeMessage *ims_mime_parse(const char *raw, size_t len, GMimeParserOptions *opts, bool *limited);

#endif
