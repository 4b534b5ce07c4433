#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "ims";
static atomic_int log_level = IMS_LOG_INFO;
static atomic_int log_to_syslog;
static int log_auto; /* target "auto": syslog once detached */
static int log_facility = LOG_MAIL;

static const char *const level_names[] = {"error", "warning", "notice", "info", "debug"};
static const int level_syslog[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};

static const struct {
	const char *name;
	int facility;
} facilities[] = {
    {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

int ims_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(name, "err") == 0)
		return IMS_LOG_ERR;
	if (strcasecmp(name, "warn") == 0)
		return IMS_LOG_WARNING;
	return -1;
}

const char *ims_log_quote(char *out, size_t len, const char *v)
{
	static const char hex[] = "0123456789abcdef";
	size_t j = 0;

	out[j++] = '"';
	for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p; p++) {
		char e[4];
		size_t n = 0;

		if (*p == '"' || *p == '\\') {
			e[n++] = '\\';
			e[n++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			e[n++] = '\\';
			e[n++] = 'x';
			e[n++] = hex[*p >> 4];
			e[n++] = hex[*p & 15];
		} else {
			e[n++] = (char)*p;
		}
		/* room for this, and for "...\"" and the NUL after it */
		if (j + n + 5 > len) {
			memcpy(out + j, "...", 3);
			j += 3;
			break;
		}
		memcpy(out + j, e, n);
		j += n;
	}
	out[j++] = '"';
	out[j] = '\0';
	return out;
}

int ims_log_facility_parse(const char *name)
{
	for (size_t i = 0; i < sizeof facilities / sizeof facilities[0]; i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].facility;
	return -1;
}

ims_status ims_log_open(const char *ident, const char *target, const char *level,
                        const char *facility)
{
	int lvl = IMS_LOG_INFO, fac = LOG_MAIL;

	if (level && (lvl = ims_log_level_parse(level)) < 0)
		return IMS_EINVAL;
	if (facility && (fac = ims_log_facility_parse(facility)) < 0)
		return IMS_EINVAL;
	if (target && strcmp(target, "syslog") != 0 && strcmp(target, "stderr") != 0 &&
	    strcmp(target, "auto") != 0)
		return IMS_EINVAL;

	if (ident)
		log_ident = ident;
	atomic_store(&log_level, lvl);
	log_facility = fac;
	log_auto = target && strcmp(target, "auto") == 0;
	if (target && strcmp(target, "syslog") == 0) {
		openlog(log_ident, LOG_PID | LOG_NDELAY, fac);
		atomic_store(&log_to_syslog, 1);
	} else {
		atomic_store(&log_to_syslog, 0);
	}
	return IMS_OK;
}

void ims_log_detached(void)
{
	if (!log_auto || atomic_load(&log_to_syslog))
		return;
	openlog(log_ident, LOG_PID | LOG_NDELAY, log_facility);
	atomic_store(&log_to_syslog, 1);
}

int ims_log_to_syslog(void)
{
	return atomic_load(&log_to_syslog);
}

void ims_log_set_level(int level)
{
	atomic_store(&log_level, level);
}

int ims_log_enabled(int level)
{
	return level <= atomic_load(&log_level);
}

void ims_vlog(int level, const char *id, const char *fmt, va_list ap)
{
	char line[4096];
	size_t n = 0;
	int r;

	if (level < IMS_LOG_ERR)
		level = IMS_LOG_ERR;
	if (level > IMS_LOG_DEBUG)
		level = IMS_LOG_DEBUG;
	if (!ims_log_enabled(level))
		return;

	if (!atomic_load(&log_to_syslog)) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
		r = snprintf(line + n, sizeof line - n, ".%03ldZ %s[%ld] %s ",
		             ts.tv_nsec / 1000000L, log_ident, (long)getpid(), level_names[level]);
		if (r > 0)
			n += (size_t)r < sizeof line - n ? (size_t)r : sizeof line - n - 1;
	}
	r = snprintf(line + n, sizeof line - n, "id=%s ", id && *id ? id : "-");
	if (r > 0)
		n += (size_t)r < sizeof line - n ? (size_t)r : sizeof line - n - 1;
	r = vsnprintf(line + n, sizeof line - n, fmt, ap);
	if (r > 0)
		n += (size_t)r < sizeof line - n ? (size_t)r : sizeof line - n - 1;
	/* One event, one line: a value with a newline must not forge a second line. */
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';

	if (atomic_load(&log_to_syslog)) {
		syslog(level_syslog[level], "%s", line);
	} else {
		if (n > sizeof line - 2)
			n = sizeof line - 2;
		line[n++] = '\n';
		ssize_t w = write(STDERR_FILENO, line, n);
		(void)w;
	}
}

void ims_log(int level, const char *id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ims_vlog(level, id, fmt, ap);
	va_end(ap);
}
