/* Pooled IMAP connections to Dovecot for folder pages: see imap.h. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <libetpan/libetpan.h>
#include <sodium.h>

#include "imap.h"
#include "log.h"

#define USER_MAX   320
#define FOLDER_MAX 255

struct conn {
	mailimap *s; /* NULL: the slot is free (or being connected while busy) */
	char user[USER_MAX + 1];
	char folder[FOLDER_MAX + 1]; /* open (EXAMINE), "" when none */
	char guid[33];               /* the open folder's mailbox GUID */
	uint32_t uidvalidity;        /* ... as it was when guid was read */
	/* the last page read on this connection (rows lo..hi, read when the
	 * folder had exists messages), or NULL; valid while the folder is
	 * open and NOOP reports no change */
	json_t *page;
	unsigned long page_lo, page_hi, page_exists;
	time_t used; /* last released */
	int busy;    /* taken by a request */
};

struct ims_imap {
	char *path; /* Dovecot's unix socket */
	char *master;
	char *password;
	time_t timeout_s, idle_s;
	size_t max, per_user;
	pthread_mutex_t lock;
	struct conn *c; /* max of them */
};

/* Closes c's session (no LOGOUT round trip: closing the socket is enough
 * for Dovecot).  The slot's user stays (the owner of a busy slot calls
 * this without the lock; take() reads user under it). */
static void session_close(struct conn *c)
{
	if (c->s)
		mailimap_free(c->s);
	c->s = NULL;
	c->folder[0] = c->guid[0] = '\0';
	c->uidvalidity = 0;
	json_decref(c->page);
	c->page = NULL;
}

/* Closes c's session and empties the slot (lock held, or at the end). */
static void conn_close(struct conn *c)
{
	session_close(c);
	c->user[0] = '\0';
}

ims_status ims_imap_open(const struct ims_conf *conf, const char *master_password,
                         struct ims_imap **out, char *err, size_t errlen)
{
	const char *path = conf->dovecot_imap;
	struct ims_imap *im;

	*out = NULL;
	if (!path || !*path)
		return IMS_OK;
	if (path[0] != '/' || strlen(path) >= sizeof((struct sockaddr_un *)0)->sun_path) {
		snprintf(err, errlen, "[dovecot] imap: want the absolute path of a unix socket");
		return IMS_EINVAL;
	}
	if (!conf->webapi_submission_user || !*conf->webapi_submission_user || !master_password) {
		snprintf(err, errlen,
		         "[dovecot] imap needs the master user: [webapi] submission_user and "
		         "submission_password_file");
		return IMS_EINVAL;
	}
	if (!(im = calloc(1, sizeof *im)))
		return IMS_ENOMEM;
	im->max = (size_t)conf->dovecot_imap_connections;
	im->per_user = (size_t)conf->dovecot_imap_user_connections;
	im->idle_s = conf->dovecot_imap_idle_s;
	im->timeout_s = conf->dovecot_timeout_ms / 1000 > 0 ? conf->dovecot_timeout_ms / 1000 : 1;
	im->path = strdup(path);
	im->master = strdup(conf->webapi_submission_user);
	im->password = strdup(master_password);
	im->c = calloc(im->max, sizeof *im->c);
	if (!im->path || !im->master || !im->password || !im->c ||
	    pthread_mutex_init(&im->lock, NULL) != 0) {
		free(im->c);
		im->c = NULL;
		im->max = 0;
		ims_imap_free(im);
		return IMS_ENOMEM;
	}
	*out = im;
	return IMS_OK;
}

void ims_imap_free(struct ims_imap *im)
{
	if (!im)
		return;
	for (size_t i = 0; i < im->max; i++)
		conn_close(&im->c[i]);
	if (im->c)
		pthread_mutex_destroy(&im->lock);
	if (im->password) {
		sodium_memzero(im->password, strlen(im->password));
		free(im->password);
	}
	free(im->c);
	free(im->path);
	free(im->master);
	free(im);
}

/* Closes the free connections idle for longer than idle_s (lock held). */
static void sweep_locked(struct ims_imap *im, time_t now)
{
	for (size_t i = 0; i < im->max; i++)
		if (im->c[i].s && !im->c[i].busy && now - im->c[i].used > im->idle_s)
			conn_close(&im->c[i]);
}

void ims_imap_sweep(struct ims_imap *im)
{
	if (!im)
		return;
	pthread_mutex_lock(&im->lock);
	sweep_locked(im, time(NULL));
	pthread_mutex_unlock(&im->lock);
}

int ims_imap_folder_ok(const char *folder)
{
	size_t n = strlen(folder);

	if (n == 0 || n > FOLDER_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)folder; *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '&' || *p == '"' || *p == '\\')
			return 0;
	return 1;
}

/* Takes a connection for user: a free one logged in as user, else an
 * empty slot (or the least recently used free connection of another user,
 * closed) marked busy with s NULL for the caller to log in.  NULL when the
 * pool or the user's share of it is in use. */
static struct conn *take(struct ims_imap *im, const char *user)
{
	struct conn *c = NULL, *empty = NULL, *lru = NULL;
	size_t mine = 0;
	time_t now = time(NULL);

	pthread_mutex_lock(&im->lock);
	sweep_locked(im, now);
	for (size_t i = 0; i < im->max; i++) {
		struct conn *x = &im->c[i];

		if (x->busy) { /* only its user is ours to read */
			mine += strcmp(x->user, user) == 0;
		} else if (x->s && strcmp(x->user, user) == 0) {
			mine++;
			if (!c)
				c = x;
		} else if (!x->s) {
			if (!empty)
				empty = x;
		} else if (!lru || x->used < lru->used) {
			lru = x;
		}
	}
	if (!c && mine < im->per_user) {
		c = empty ? empty : lru;
		if (c) {
			conn_close(c);
			snprintf(c->user, sizeof c->user, "%s", user);
		}
	}
	if (c)
		c->busy = 1;
	pthread_mutex_unlock(&im->lock);
	return c;
}

/* Gives c back: kept when ok, else closed. */
static void give_back(struct ims_imap *im, struct conn *c, int ok)
{
	pthread_mutex_lock(&im->lock);
	if (!ok)
		conn_close(c);
	c->used = time(NULL);
	c->busy = 0;
	pthread_mutex_unlock(&im->lock);
}

/* A stream layer over libetpan's socket layer that makes end of file an
 * error: libetpan's parser reads a literal ({n} then n bytes) in a loop
 * that stops on an error but not on a read of 0 bytes, so an answer cut
 * in the middle of a literal (Dovecot stopped or killed during a FETCH)
 * kept the request's thread spinning for ever (tests/fuzz/seeds/imap/
 * eof-in-literal).  IMAP never ends a stream where the client still
 * reads, so EOF is always an error here.  data is the socket layer. */
static ssize_t eof_read(mailstream_low *s, void *buf, size_t n)
{
	ssize_t r = mailstream_low_read(s->data, buf, n);

	return r == 0 && n > 0 ? -1 : r;
}

static ssize_t eof_write(mailstream_low *s, const void *buf, size_t n)
{
	return mailstream_low_write(s->data, buf, n);
}

static int eof_close(mailstream_low *s)
{
	return mailstream_low_close(s->data);
}

static int eof_get_fd(mailstream_low *s)
{
	return mailstream_low_get_fd(s->data);
}

static void eof_free(mailstream_low *s)
{
	mailstream_low_free(s->data);
	free(s);
}

static void eof_cancel(mailstream_low *s)
{
	mailstream_low_cancel(s->data);
}

static struct mailstream_cancel *eof_get_cancel(mailstream_low *s)
{
	return mailstream_low_get_cancel(s->data);
}

static carray *eof_certificate_chain(mailstream_low *s)
{
	(void)s;
	return NULL;
}

static int eof_setup_idle(mailstream_low *s)
{
	return mailstream_low_setup_idle(s->data);
}

static int eof_unsetup_idle(mailstream_low *s)
{
	return mailstream_low_unsetup_idle(s->data);
}

static int eof_interrupt_idle(mailstream_low *s)
{
	return mailstream_low_interrupt_idle(s->data);
}

static mailstream_low_driver eof_driver = {
    .mailstream_read = eof_read,
    .mailstream_write = eof_write,
    .mailstream_close = eof_close,
    .mailstream_get_fd = eof_get_fd,
    .mailstream_free = eof_free,
    .mailstream_cancel = eof_cancel,
    .mailstream_get_cancel = eof_get_cancel,
    .mailstream_get_certificate_chain = eof_certificate_chain,
    .mailstream_setup_idle = eof_setup_idle,
    .mailstream_unsetup_idle = eof_unsetup_idle,
    .mailstream_interrupt_idle = eof_interrupt_idle,
};

/* A stream on fd (taken: closed with the stream, or here on failure) with
 * timeout_s on every read and write, EOF an error (above). */
static mailstream *stream_open(int fd, time_t timeout_s)
{
	mailstream_low *sock = mailstream_low_socket_open(fd), *low = NULL;
	mailstream *st = NULL;

	if (!sock) {
		close(fd);
		return NULL;
	}
	mailstream_low_set_timeout(sock, timeout_s);
	if (!(low = mailstream_low_new(sock, &eof_driver))) {
		mailstream_low_close(sock);
		mailstream_low_free(sock);
		return NULL;
	}
	if (!(st = mailstream_new(low, 8192))) {
		mailstream_low_close(low);
		mailstream_low_free(low);
	}
	return st;
}

/* Connects c (busy, s NULL) to Dovecot's socket and logs in as c->user. */
static ims_status login(struct ims_imap *im, struct conn *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = im->timeout_s};
	char who[USER_MAX + 128];
	mailstream *st;
	int fd, r;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", im->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		snprintf(err, errlen, "imap %s: %s", im->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return IMS_ETEMP;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (!(c->s = mailimap_new(0, NULL))) {
		close(fd);
		session_close(c);
		snprintf(err, errlen, "out of memory");
		return IMS_ENOMEM;
	}
	if (!(st = stream_open(fd, im->timeout_s))) { /* fd is closed */
		session_close(c);
		snprintf(err, errlen, "out of memory");
		return IMS_ENOMEM;
	}
	mailimap_set_timeout(c->s, im->timeout_s);
	r = mailimap_connect(c->s, st); /* the session owns st (and fd) now */
	if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		snprintf(err, errlen, "imap %s: no greeting (%d)", im->path, r);
		session_close(c);
		return IMS_ETEMP;
	}
	snprintf(who, sizeof who, "%s*%s", c->user, im->master);
	r = mailimap_login(c->s, who, im->password);
	sodium_memzero(who, sizeof who);
	if (r != MAILIMAP_NO_ERROR) {
		snprintf(err, errlen, "imap: master login as %s refused (%d)", c->user, r);
		session_close(c);
		return IMS_ETEMP;
	}
	ims_log_info(NULL, "event=imap_login user=%s", c->user);
	return IMS_OK;
}

/* "\Seen \Flagged" from a FETCH FLAGS item. */
static void flags_text(struct mailimap_msg_att_dynamic *dyn, char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
	if (!dyn || !dyn->att_list)
		return;
	for (clistiter *it = clist_begin(dyn->att_list); it; it = clist_next(it)) {
		struct mailimap_flag_fetch *ff = clist_content(it);
		const char *name = NULL;

		if (!ff || ff->fl_type != MAILIMAP_FLAG_FETCH_OTHER || !ff->fl_flag)
			continue;
		switch (ff->fl_flag->fl_type) {
		case MAILIMAP_FLAG_SEEN: name = "\\Seen"; break;
		case MAILIMAP_FLAG_FLAGGED: name = "\\Flagged"; break;
		case MAILIMAP_FLAG_ANSWERED: name = "\\Answered"; break;
		case MAILIMAP_FLAG_DELETED: name = "\\Deleted"; break;
		case MAILIMAP_FLAG_DRAFT: name = "\\Draft"; break;
		case MAILIMAP_FLAG_KEYWORD: /* Dovecot's attachment detection (10-ims.conf) */
			if (ff->fl_flag->fl_data.fl_keyword &&
			    strcmp(ff->fl_flag->fl_data.fl_keyword, "$HasAttachment") == 0)
				name = "$HasAttachment";
			else
				continue;
			break;
		default: continue;
		}
		n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s", n ? " " : "",
		                      name);
		if (n >= outlen) {
			out[outlen - 1] = '\0';
			return;
		}
	}
}

/* Text as a JSON string: bytes that are not UTF-8 become U+FFFD, as
 * doveadm's JSON gives them, so both paths show the same item; "" when
 * absent. */
static json_t *text_or_empty(const char *v, gssize n)
{
	json_t *j = NULL;

	if (v && g_utf8_validate(v, n, NULL)) {
		j = n < 0 ? json_string(v) : json_stringn(v, (size_t)n);
	} else if (v) {
		gchar *fixed = g_utf8_make_valid(v, n);

		j = json_string(fixed);
		g_free(fixed);
	}
	return j ? j : json_string("");
}

/* Appends an envelope's display name as RFC 5322 writes it: quoted (with
 * '"' and '\\' escaped) when it holds a special, so "Doe, Jane" stays one
 * name and not two addresses; encoded words stay as they are (mailbox.c
 * decodes them, as for the doveadm path). */
static void append_name(GString *s, const char *name)
{
	if (!name[strcspn(name, "()<>[]:;@\\,.\"")]) {
		g_string_append(s, name);
		return;
	}
	g_string_append_c(s, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_c(s, '\\');
		g_string_append_c(s, *p);
	}
	g_string_append_c(s, '"');
}

/* An envelope address list as header text: "Name <box@host>, ...". */
static json_t *addresses(clist *list)
{
	GString *s = g_string_new(NULL);
	json_t *j;

	for (clistiter *it = list ? clist_begin(list) : NULL; it; it = clist_next(it)) {
		struct mailimap_address *a = clist_content(it);
		const char *host;

		if (!a || !a->ad_mailbox_name)
			continue; /* group syntax markers */
		host = a->ad_host_name ? a->ad_host_name : "";
		if (s->len)
			g_string_append(s, ", ");
		if (a->ad_personal_name && *a->ad_personal_name) {
			append_name(s, a->ad_personal_name);
			g_string_append_printf(s, " <%s@%s>", a->ad_mailbox_name, host);
		} else
			g_string_append_printf(s, "%s@%s", a->ad_mailbox_name, host);
	}
	j = text_or_empty(s->str, (gssize)s->len);
	g_string_free(s, TRUE);
	return j;
}

/* The X-IMS-Scan-Id value out of "X-IMS-Scan-Id: VALUE\r\n\r\n" (the
 * header as FETCH BODY.PEEK[HEADER.FIELDS] gives it; mailbox.c takes its
 * first token). */
static json_t *scan_header(const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);

	if (!colon)
		return json_string("");
	colon++;
	return text_or_empty(colon, (gssize)(n - (size_t)(colon - p)));
}

static long tz_seconds(int zone)
{
	/* libetpan keeps the zone as the +HHMM number */
	int sign = zone < 0 ? -1 : 1, z = zone * sign;

	return sign * ((z / 100) * 3600L + (z % 100) * 60L);
}

static void set_num(json_t *row, const char *name, long long v)
{
	char num[32];

	snprintf(num, sizeof num, "%lld", v);
	json_object_set_new(row, name, json_string(num));
}

static json_t *row_of(struct mailimap_msg_att *ma, const char *guid)
{
	json_t *row = json_object();
	char flags[128] = "";

	if (!row)
		return NULL;
	set_num(row, "seq", ma->att_number);
	json_object_set_new(row, "mailbox-guid", json_string(guid));
	for (clistiter *it = clist_begin(ma->att_list); it; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);
		struct mailimap_msg_att_static *st;

		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
			flags_text(item->att_data.att_dyn, flags, sizeof flags);
			continue;
		}
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		st = item->att_data.att_static;
		switch (st->att_type) {
		case MAILIMAP_MSG_ATT_UID: set_num(row, "uid", st->att_data.att_uid); break;
		case MAILIMAP_MSG_ATT_RFC822_SIZE:
			set_num(row, "size.virtual", st->att_data.att_rfc822_size);
			break;
		case MAILIMAP_MSG_ATT_INTERNALDATE: {
			struct mailimap_date_time *d = st->att_data.att_internal_date;
			struct tm tm = {0};

			if (!d)
				break;
			tm.tm_year = d->dt_year - 1900;
			tm.tm_mon = d->dt_month - 1;
			tm.tm_mday = d->dt_day;
			tm.tm_hour = d->dt_hour;
			tm.tm_min = d->dt_min;
			tm.tm_sec = d->dt_sec;
			set_num(row, "date.received.unixtime",
			        (long long)(timegm(&tm) - tz_seconds(d->dt_zone)));
			break;
		}
		case MAILIMAP_MSG_ATT_ENVELOPE: {
			struct mailimap_envelope *e = st->att_data.att_env;

			if (!e)
				break;
			json_object_set_new(row, "hdr.subject", text_or_empty(e->env_subject, -1));
			json_object_set_new(row, "hdr.date", text_or_empty(e->env_date, -1));
			json_object_set_new(row, "hdr.from",
			                    addresses(e->env_from ? e->env_from->frm_list : NULL));
			json_object_set_new(row, "hdr.to",
			                    addresses(e->env_to ? e->env_to->to_list : NULL));
			break;
		}
		case MAILIMAP_MSG_ATT_BODY_SECTION: {
			struct mailimap_msg_att_body_section *b = st->att_data.att_body_section;

			if (b && b->sec_body_part)
				json_object_set_new(row, "hdr.x-ims-scan-id",
				                    scan_header(b->sec_body_part, b->sec_length));
			break;
		}
		default: break;
		}
	}
	json_object_set_new(row, "flags", json_string(flags));
	return row;
}

/* UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE
 * BODY.PEEK[HEADER.FIELDS (X-IMS-Scan-Id)]: what a list item shows. */
static struct mailimap_fetch_type *page_fetch_type(void)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *hdrs = clist_new();
	char *name = strdup("X-IMS-Scan-Id");
	struct mailimap_header_list *hl = NULL;
	struct mailimap_section *sec = NULL;
	struct mailimap_fetch_att *att = NULL;

	if (!ft || !hdrs || !name || clist_append(hdrs, name) != 0)
		goto fail;
	name = NULL;
	if (!(hl = mailimap_header_list_new(hdrs)))
		goto fail;
	hdrs = NULL;
	if (!(sec = mailimap_section_new_header_fields(hl)))
		goto fail;
	hl = NULL;
	if (!(att = mailimap_fetch_att_new_body_peek_section(sec)))
		goto fail;
	sec = NULL;
	if (mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid()) ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags()) ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_internaldate()) ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size()) ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_envelope()) ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, att))
		goto fail;
	return ft;
fail:
	if (att)
		mailimap_fetch_att_free(att);
	if (sec)
		mailimap_section_free(sec);
	if (hl)
		mailimap_header_list_free(hl);
	if (hdrs)
		clist_free(hdrs);
	free(name);
	if (ft)
		mailimap_fetch_type_free(ft);
	return NULL;
}

/* Opens folder on c (EXAMINE) unless it is open; then syncs it with what
 * other sessions did (NOOP: new mail, expunges, flags).  *exists gets the
 * folder's size as this session sees it. */
static ims_status sync_folder(struct conn *c, const char *folder, ims_imap_guid_fn guid_of,
                              void *ctx, unsigned long *exists, char *err, size_t errlen)
{
	int r;

	if (strcmp(c->folder, folder) != 0) {
		c->folder[0] = '\0';
		json_decref(c->page);
		c->page = NULL;
		r = mailimap_examine(c->s, folder);
		if (r == MAILIMAP_ERROR_EXAMINE)
			return IMS_ENOTFOUND;
		if (r != MAILIMAP_NO_ERROR || !c->s->imap_selection_info) {
			snprintf(err, errlen, "imap: EXAMINE failed (%d)", r);
			return IMS_ETEMP;
		}
		snprintf(c->folder, sizeof c->folder, "%s", folder);
	} else {
		struct mailimap_response_info *ri;

		r = mailimap_noop(c->s);
		if (r != MAILIMAP_NO_ERROR || !c->s->imap_selection_info) {
			snprintf(err, errlen, "imap: NOOP failed (%d)", r);
			return IMS_ETEMP;
		}
		/* what the NOOP reported: expunges and flag changes (untagged
		 * FETCH) by any session; new mail shows in EXISTS (below) */
		ri = c->s->imap_response_info;
		if (!ri || (ri->rsp_expunged && clist_count(ri->rsp_expunged)) ||
		    (ri->rsp_fetch_list && clist_count(ri->rsp_fetch_list))) {
			json_decref(c->page);
			c->page = NULL;
		}
	}
	/* libetpan keeps EXISTS (and counts EXPUNGEs) in the selection info */
	*exists = c->s->imap_selection_info->sel_exists;
	if (!c->guid[0] || c->uidvalidity != c->s->imap_selection_info->sel_uidvalidity) {
		ims_status rc = guid_of(ctx, c->user, folder, c->guid, err, errlen);

		if (rc != IMS_OK) {
			c->guid[0] = c->folder[0] = '\0';
			return rc;
		}
		c->uidvalidity = c->s->imap_selection_info->sel_uidvalidity;
	}
	return IMS_OK;
}

/* One page on c (busy, logged in): *rows gets a reference to the rows
 * (shared with c's cache; nobody changes them). */
static ims_status page(struct conn *c, const char *folder, unsigned long hi, unsigned long count,
                       ims_imap_guid_fn guid_of, void *ctx, json_t **rows, char *err, size_t errlen)
{
	unsigned long lo, exists = 0;
	struct mailimap_set *set = NULL;
	struct mailimap_fetch_type *ft = NULL;
	clist *result = NULL;
	json_t *out = NULL;
	int r, cacheable = 1;
	ims_status rc = sync_folder(c, folder, guid_of, ctx, &exists, err, errlen);

	if (rc != IMS_OK)
		return rc;
	if (hi == 0 || hi > exists)
		hi = exists;
	lo = hi > count ? hi - count + 1 : 1;
	if (c->page && c->page_lo == lo && c->page_hi == hi && c->page_exists == exists) {
		*rows = json_incref(c->page); /* nothing changed since */
		return IMS_OK;
	}
	json_decref(c->page);
	c->page = NULL;
	rc = IMS_ENOMEM;
	if (!(out = json_array()))
		goto out;
	if (hi == 0 || lo > hi) {
		rc = IMS_OK;
		goto out;
	}
	set = mailimap_set_new_interval((uint32_t)lo, (uint32_t)hi);
	ft = page_fetch_type();
	if (!set || !ft)
		goto out;
	r = mailimap_fetch(c->s, set, ft, &result);
	if (r != MAILIMAP_NO_ERROR) {
		snprintf(err, errlen, "imap: FETCH %lu:%lu failed (%d)", lo, hi, r);
		rc = IMS_ETEMP;
		goto out;
	}
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		json_t *row = row_of(clist_content(it), c->guid);

		if (!row || json_array_append_new(out, row) != 0)
			goto out;
		/* a flag change another session made during the FETCH comes as
		 * a row of its own (no UID): fine to show, not to keep */
		if (!json_object_get(row, "uid"))
			cacheable = 0;
	}
	rc = IMS_OK;
out:
	if (result)
		mailimap_fetch_list_free(result);
	if (set)
		mailimap_set_free(set);
	if (ft)
		mailimap_fetch_type_free(ft);
	if (rc == IMS_OK && cacheable) {
		c->page = json_incref(out);
		c->page_lo = lo;
		c->page_hi = hi;
		c->page_exists = exists;
	}
	if (rc == IMS_OK)
		*rows = out;
	else
		json_decref(out);
	return rc;
}

/* One request's work on a connection (busy, logged in as the user). */
struct op {
	ims_status (*run)(struct conn *c, struct op *o, char *err, size_t errlen);
	const char *folder;
	ims_imap_guid_fn guid_of;
	void *ctx;
	/* a page */
	unsigned long hi, count;
	json_t **rows;
	/* one message's bytes */
	const char *guid;
	unsigned long uid;
	size_t max;
	char **raw;
	size_t *len;
};

static ims_status run_page(struct conn *c, struct op *o, char *err, size_t errlen)
{
	return page(c, o->folder, o->hi, o->count, o->guid_of, o->ctx, o->rows, err, errlen);
}

/* UID FETCH uid (BODY.PEEK[]<0.max+1>): the message's bytes, read-only. */
static ims_status run_raw(struct conn *c, struct op *o, char *err, size_t errlen)
{
	unsigned long exists = 0;
	struct mailimap_set *set = NULL;
	struct mailimap_fetch_type *ft = NULL;
	struct mailimap_section *sec = NULL;
	struct mailimap_fetch_att *att = NULL;
	clist *result = NULL;
	int r;
	ims_status rc = sync_folder(c, o->folder, o->guid_of, o->ctx, &exists, err, errlen);

	if (rc != IMS_OK)
		return rc;
	if (strcmp(c->guid, o->guid) != 0)
		return IMS_ENOTFOUND; /* the folder of that name is another one now */
	rc = IMS_ENOMEM;
	if (!(set = mailimap_set_new_single((uint32_t)o->uid)) ||
	    !(ft = mailimap_fetch_type_new_fetch_att_list_empty()) ||
	    !(sec = mailimap_section_new(NULL)))
		goto out;
	if (!(att = mailimap_fetch_att_new_body_peek_section_partial(sec, 0, (uint32_t)o->max + 1)))
		goto out;
	sec = NULL;
	if (mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid()))
		goto out;
	if (mailimap_fetch_type_new_fetch_att_list_add(ft, att))
		goto out;
	att = NULL;
	r = mailimap_uid_fetch(c->s, set, ft, &result);
	if (r != MAILIMAP_NO_ERROR) {
		snprintf(err, errlen, "imap: UID FETCH %lu failed (%d)", o->uid, r);
		rc = IMS_ETEMP;
		goto out;
	}
	rc = IMS_ENOTFOUND;
	/* the row of that UID (others: flag changes other sessions made) */
	for (clistiter *it = clist_begin(result); it && rc == IMS_ENOTFOUND; it = clist_next(it)) {
		struct mailimap_msg_att *ma = clist_content(it);
		struct mailimap_msg_att_body_section *body = NULL;
		unsigned long uid = 0;

		for (clistiter *i = clist_begin(ma->att_list); i; i = clist_next(i)) {
			struct mailimap_msg_att_item *item = clist_content(i);

			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID)
				uid = item->att_data.att_static->att_data.att_uid;
			else if (item->att_data.att_static->att_type ==
			         MAILIMAP_MSG_ATT_BODY_SECTION)
				body = item->att_data.att_static->att_data.att_body_section;
		}
		if (uid != o->uid || !body)
			continue;
		if (body->sec_length > o->max) {
			snprintf(err, errlen, "imap: message larger than %zu bytes", o->max);
			rc = IMS_ELIMIT;
		} else if (!(*o->raw = malloc(body->sec_length + 1))) {
			rc = IMS_ENOMEM;
		} else {
			if (body->sec_length)
				memcpy(*o->raw, body->sec_body_part, body->sec_length);
			(*o->raw)[body->sec_length] = '\0';
			*o->len = body->sec_length;
			rc = IMS_OK;
		}
	}
out:
	if (result)
		mailimap_fetch_list_free(result);
	if (att)
		mailimap_fetch_att_free(att);
	if (sec)
		mailimap_section_free(sec);
	if (ft)
		mailimap_fetch_type_free(ft);
	if (set)
		mailimap_set_free(set);
	return rc;
}

/* Runs o on a pooled connection of user's. */
static ims_status with_conn(struct ims_imap *im, const char *user, struct op *o, char *err,
                            size_t errlen)
{
	struct conn *c;
	ims_status rc = IMS_ENOMEM;

	err[0] = '\0';
	if (!ims_imap_folder_ok(o->folder) || strlen(user) > USER_MAX) {
		snprintf(err, errlen, "folder or user not for IMAP");
		return IMS_EINVAL;
	}
	if (!(c = take(im, user))) {
		snprintf(err, errlen, "imap: every connection is in use");
		return IMS_ELIMIT;
	}
	/* A reused connection may have died with Dovecot (a restart): then
	 * one new connection, once. */
	for (int attempt = 0; attempt < 2; attempt++) {
		int reused = c->s != NULL;

		if (!c->s && (rc = login(im, c, err, errlen)) != IMS_OK)
			break;
		rc = o->run(c, o, err, errlen);
		if (rc != IMS_ETEMP || !reused)
			break;
		ims_log_info(NULL, "event=imap_reconnect user=%s error=\"%s\"", user, err);
		session_close(c);
	}
	/* a half-read answer leaves the stream unusable: only a clean answer
	 * (or a folder or message that is not there, or one too large) keeps
	 * the connection */
	give_back(im, c, rc == IMS_OK || rc == IMS_ENOTFOUND || rc == IMS_ELIMIT);
	return rc;
}

ims_status ims_imap_fetch(struct ims_imap *im, const char *user, const char *folder,
                          unsigned long hi, unsigned long count, ims_imap_guid_fn guid_of,
                          void *ctx, json_t **rows, char *err, size_t errlen)
{
	struct op o = {.run = run_page,
	               .folder = folder,
	               .guid_of = guid_of,
	               .ctx = ctx,
	               .hi = hi,
	               .count = count,
	               .rows = rows};

	*rows = NULL;
	return with_conn(im, user, &o, err, errlen);
}

ims_status ims_imap_fetch_raw(struct ims_imap *im, const char *user, const char *folder,
                              const char *guid, unsigned long uid, size_t max,
                              ims_imap_guid_fn guid_of, void *ctx, char **raw, size_t *len,
                              char *err, size_t errlen)
{
	struct op o = {.run = run_raw,
	               .folder = folder,
	               .guid_of = guid_of,
	               .ctx = ctx,
	               .guid = guid,
	               .uid = uid,
	               .max = max > UINT32_MAX - 1 ? UINT32_MAX - 1 : max,
	               .raw = raw,
	               .len = len};

	*raw = NULL;
	*len = 0;
	if (uid == 0 || uid > UINT32_MAX) {
		snprintf(err, errlen, "bad UID");
		return IMS_EINVAL;
	}
	return with_conn(im, user, &o, err, errlen);
}
