/* Writing JSON text straight to a stream, for the hot list routes where
 * building jansson objects only to serialise them again costs more than the
 * rest of the request.  Strings are escaped per RFC 8259; bytes that are
 * not valid UTF-8 become U+FFFD, so the output is always valid JSON. */
#ifndef IMS_WEB_JSONW_H
#define IMS_WEB_JSONW_H

#include <stddef.h>
#include <stdio.h>

/* Writes s (len bytes) as a JSON string, quotes included. */
void ims_jsonw_str(FILE *f, const char *s, size_t len);

/* Writes "key": (key must need no escaping). */
void ims_jsonw_key(FILE *f, const char *key);

#endif
