/* One logging module for every ims program.
 *
 * One line per event, key=value pairs, the trace or scan id first so an
 * operator can grep one id across ims-milter, ims-webapi and Redis:
 *
 *   2026-11-23T06:10:00.123Z ims-milter[812] info id=01JD3... event=scan action=reject score=14.2
 *
 * Thread-safe: each line is formatted into a local buffer and written with
 * one write(2) (stderr) or one syslog(3) call. */
#ifndef IMS_LOG_H
#define IMS_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "status.h"

enum ims_log_level {
	IMS_LOG_ERR = 0,
	IMS_LOG_WARNING,
	IMS_LOG_NOTICE,
	IMS_LOG_INFO,
	IMS_LOG_DEBUG,
};

/* Sets where lines go.  target is "stderr", "syslog", or "auto" (stderr
 * until ims_log_detached() is called, syslog after); level is one of
 * "error", "warning", "notice", "info", "debug"; facility is a syslog
 * facility name ("mail", "daemon", "local0".."local7").  ident is kept by
 * pointer and must outlive the program.  Returns IMS_EINVAL on a bad name. */
ims_status ims_log_open(const char *ident, const char *target, const char *level,
                        const char *facility);

/* The program has left its terminal (daemon mode: stderr is /dev/null): a
 * target of "auto" switches to syslog.  No effect otherwise. */
void ims_log_detached(void);

/* 1 when lines go to syslog now. */
int ims_log_to_syslog(void);

/* Parses a level name; returns -1 when unknown. */
int ims_log_level_parse(const char *name);

/* Parses a syslog facility name ("mail", "daemon", "user", "local0"..
 * "local7") into its LOG_* value; -1 when unknown. */
int ims_log_facility_parse(const char *name);

/* Lines above this level are dropped. */
void ims_log_set_level(int level);
int ims_log_enabled(int level);

/* v as one log value: in double quotes, with " and \ escaped by \ and
 * control characters (a header's CR/LF included) as \xNN, so a sender's
 * text cannot end the value or the line or forge a key=value pair.  At most
 * len bytes with the NUL (len >= 8); a longer value is cut and ends "...".
 * NULL is "".  Returns out. */
const char *ims_log_quote(char *out, size_t len, const char *v);

/* Logs one line.  id may be NULL ("-" is printed).  fmt should be
 * key=value pairs; values with spaces are the caller's to quote. */
void ims_log(int level, const char *id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ims_vlog(int level, const char *id, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define ims_log_err(id, ...)    ims_log(IMS_LOG_ERR, (id), __VA_ARGS__)
#define ims_log_warn(id, ...)   ims_log(IMS_LOG_WARNING, (id), __VA_ARGS__)
#define ims_log_notice(id, ...) ims_log(IMS_LOG_NOTICE, (id), __VA_ARGS__)
#define ims_log_info(id, ...)   ims_log(IMS_LOG_INFO, (id), __VA_ARGS__)
#define ims_log_debug(id, ...)                                                                     \
	do {                                                                                       \
		if (ims_log_enabled(IMS_LOG_DEBUG))                                                \
			ims_log(IMS_LOG_DEBUG, (id), __VA_ARGS__);                                 \
	} while (0)

#endif
