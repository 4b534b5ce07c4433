/* Pooled IMAP connections to Dovecot for folder pages: see imap.h. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <libetpan/libetpan.h>
#include <sodium.h>

#include "imap.h"

/* Connections a worker thread keeps (one per user, least recently used
 * dropped first).  Dovecot allows 10 per user and client address by
 * default (mail_max_userip_connections): threads x 1 per user stays under
 * it for the usual 4-8 threads. */
#define POOL       4
#define USER_MAX   320
#define FOLDER_MAX 256

struct ims_imap {
	char *host;
	uint16_t port;
	char *master;
	char *password;
	time_t timeout_s;
};

struct conn {
	mailimap *s;
	char user[USER_MAX + 1];
	char folder[FOLDER_MAX + 1]; /* selected (EXAMINE), "" when none */
	unsigned long used;          /* for LRU */
};

struct pool {
	const struct ims_imap *owner;
	struct conn c[POOL];
	unsigned long clock;
};

static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void conn_drop(struct conn *c)
{
	if (c->s) {
		mailimap_free(c->s); /* closes the socket; no LOGOUT round trip */
		c->s = NULL;
	}
	c->user[0] = c->folder[0] = '\0';
}

static void pool_free(void *p)
{
	struct pool *pl = p;

	if (!pl)
		return;
	for (int i = 0; i < POOL; i++)
		conn_drop(&pl->c[i]);
	free(pl);
}

static void pool_key_init(void)
{
	pthread_key_create(&pool_key, pool_free);
}

static struct pool *thread_pool(const struct ims_imap *im)
{
	struct pool *pl;

	pthread_once(&pool_once, pool_key_init);
	pl = pthread_getspecific(pool_key);
	if (pl && pl->owner == im)
		return pl;
	pool_free(pl);
	pl = calloc(1, sizeof *pl);
	if (pl)
		pl->owner = im;
	pthread_setspecific(pool_key, pl);
	return pl;
}

ims_status ims_imap_open(const struct ims_conf *conf, const char *master_password,
                         struct ims_imap **out, char *err, size_t errlen)
{
	const char *spec = conf->dovecot_imap, *colon;
	struct ims_imap *im;
	char *end;
	unsigned long port;

	*out = NULL;
	if (!spec || !*spec || !conf->webapi_submission_user || !*conf->webapi_submission_user ||
	    !master_password)
		return IMS_OK;
	colon = strrchr(spec, ':');
	port = colon ? strtoul(colon + 1, &end, 10) : 0;
	if (!colon || colon == spec || *end || port == 0 || port > 65535) {
		snprintf(err, errlen, "[dovecot] imap: want host:port, got \"%s\"", spec);
		return IMS_EINVAL;
	}
	im = calloc(1, sizeof *im);
	if (!im)
		return IMS_ENOMEM;
	im->host = strndup(spec, (size_t)(colon - spec));
	im->master = strdup(conf->webapi_submission_user);
	im->password = strdup(master_password);
	im->port = (uint16_t)port;
	im->timeout_s = conf->dovecot_timeout_ms / 1000 > 0 ? conf->dovecot_timeout_ms / 1000 : 1;
	if (!im->host || !im->master || !im->password) {
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
	if (im->password) {
		sodium_memzero(im->password, strlen(im->password));
		free(im->password);
	}
	free(im->host);
	free(im->master);
	free(im);
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

/* The thread's logged-in connection for user, made when there is none. */
static struct conn *conn_for(const struct ims_imap *im, const char *user, char *err, size_t errlen)
{
	struct pool *pl = thread_pool(im);
	struct conn *c = NULL;
	char login[USER_MAX + 128];
	int r;

	if (!pl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < POOL; i++)
		if (pl->c[i].s && strcmp(pl->c[i].user, user) == 0) {
			c = &pl->c[i];
			c->used = ++pl->clock;
			return c;
		}
	/* a free slot, else the least recently used one */
	c = &pl->c[0];
	for (int i = 0; i < POOL && c->s; i++)
		if (!pl->c[i].s || pl->c[i].used < c->used)
			c = &pl->c[i];
	conn_drop(c);
	if (strlen(user) > USER_MAX)
		return NULL;
	c->s = mailimap_new(0, NULL);
	if (!c->s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	mailimap_set_timeout(c->s, im->timeout_s);
	r = mailimap_socket_connect(c->s, im->host, im->port);
	if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		snprintf(err, errlen, "imap %s:%u: connect failed (%d)", im->host, im->port, r);
		conn_drop(c);
		return NULL;
	}
	snprintf(login, sizeof login, "%s*%s", user, im->master);
	r = mailimap_login(c->s, login, im->password);
	sodium_memzero(login, sizeof login);
	if (r != MAILIMAP_NO_ERROR) {
		snprintf(err, errlen, "imap: master login as %s refused (%d)", user, r);
		conn_drop(c);
		return NULL;
	}
	snprintf(c->user, sizeof c->user, "%s", user);
	c->used = ++pl->clock;
	return c;
}

/* "\Seen \Flagged" from a FETCH FLAGS item. */
static void flags_text(struct mailimap_msg_att_dynamic *dyn, char *out, size_t outlen)
{
	clistiter *it;
	size_t n = 0;

	out[0] = '\0';
	if (!dyn || !dyn->att_list)
		return;
	for (it = clist_begin(dyn->att_list); it; it = clist_next(it)) {
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

/* An envelope address list as header text: "Name <box@host>, ...". */
static json_t *addresses(clist *list)
{
	GString *s;
	clistiter *it;
	json_t *j;

	if (!list)
		return json_string("");
	s = g_string_new(NULL);
	for (it = clist_begin(list); it; it = clist_next(it)) {
		struct mailimap_address *a = clist_content(it);

		if (!a || !a->ad_mailbox_name)
			continue; /* group syntax markers */
		if (s->len)
			g_string_append(s, ", ");
		if (a->ad_personal_name && *a->ad_personal_name)
			g_string_append_printf(s, "%s <%s@%s>", a->ad_personal_name,
			                       a->ad_mailbox_name,
			                       a->ad_host_name ? a->ad_host_name : "");
		else
			g_string_append_printf(s, "%s@%s", a->ad_mailbox_name,
			                       a->ad_host_name ? a->ad_host_name : "");
	}
	/* names straight from a message may not be UTF-8: jansson refuses those */
	j = g_utf8_validate(s->str, (gssize)s->len, NULL) ? json_stringn(s->str, s->len) : NULL;
	g_string_free(s, TRUE);
	return j ? j : json_string("");
}

static json_t *str_or_empty(const char *v)
{
	json_t *j = v && g_utf8_validate(v, -1, NULL) ? json_string(v) : NULL;

	return j ? j : json_string("");
}

/* The X-IMS-Scan-Id value out of "X-IMS-Scan-Id: VALUE\r\n\r\n". */
static json_t *scan_header(const char *p, size_t n)
{
	const char *end = p + n, *colon = memchr(p, ':', n);
	char v[80];
	size_t k = 0;

	if (!colon)
		return json_string("");
	for (p = colon + 1; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	while (p<end && * p> ' ' && *p < 0x7f && k + 1 < sizeof v)
		v[k++] = *p++;
	v[k] = '\0';
	return json_string(v);
}

static long tz_seconds(int zone)
{
	/* libetpan keeps the zone as the +HHMM number */
	int sign = zone < 0 ? -1 : 1, z = zone * sign;

	return sign * ((z / 100) * 3600L + (z % 100) * 60L);
}

static json_t *row_of(struct mailimap_msg_att *ma)
{
	json_t *row = json_object();
	clistiter *it;
	char num[32], flags[128] = "";

	if (!row)
		return NULL;
	snprintf(num, sizeof num, "%u", ma->att_number);
	json_object_set_new(row, "seq", json_string(num));
	for (it = clist_begin(ma->att_list); it; it = clist_next(it)) {
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
		case MAILIMAP_MSG_ATT_UID:
			snprintf(num, sizeof num, "%u", st->att_data.att_uid);
			json_object_set_new(row, "uid", json_string(num));
			break;
		case MAILIMAP_MSG_ATT_RFC822_SIZE:
			snprintf(num, sizeof num, "%u", st->att_data.att_rfc822_size);
			json_object_set_new(row, "size.virtual", json_string(num));
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
			snprintf(num, sizeof num, "%lld",
			         (long long)(timegm(&tm) - tz_seconds(d->dt_zone)));
			json_object_set_new(row, "date.received.unixtime", json_string(num));
			break;
		}
		case MAILIMAP_MSG_ATT_ENVELOPE: {
			struct mailimap_envelope *e = st->att_data.att_env;

			if (!e)
				break;
			json_object_set_new(row, "hdr.subject", str_or_empty(e->env_subject));
			json_object_set_new(row, "hdr.date", str_or_empty(e->env_date));
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

static struct mailimap_fetch_type *page_fetch_type(void)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *hdrs = clist_new();
	char *name = strdup("X-IMS-Scan-Id");
	struct mailimap_header_list *hl;
	struct mailimap_section *sec;

	if (!ft || !hdrs || !name || clist_append(hdrs, name) != 0) {
		free(name);
		if (hdrs)
			clist_free(hdrs);
		if (ft)
			mailimap_fetch_type_free(ft);
		return NULL;
	}
	hl = mailimap_header_list_new(hdrs);
	sec = hl ? mailimap_section_new_header_fields(hl) : NULL;
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_internaldate());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_envelope());
	if (sec)
		mailimap_fetch_type_new_fetch_att_list_add(
		    ft, mailimap_fetch_att_new_body_peek_section(sec));
	return ft;
}

/* The folder's size after syncing: EXAMINE when another folder is open,
 * else NOOP and STATUS. */
static ims_status sync_folder(struct conn *c, const char *folder, unsigned long *exists, char *err,
                              size_t errlen)
{
	int r;

	if (strcmp(c->folder, folder) != 0) {
		c->folder[0] = '\0';
		r = mailimap_examine(c->s, folder);
		if (r == MAILIMAP_ERROR_EXAMINE)
			return IMS_ENOTFOUND;
		if (r != MAILIMAP_NO_ERROR || !c->s->imap_selection_info) {
			snprintf(err, errlen, "imap: EXAMINE failed (%d)", r);
			return IMS_ETEMP;
		}
		snprintf(c->folder, sizeof c->folder, "%s", folder);
		*exists = c->s->imap_selection_info->sel_exists;
		return IMS_OK;
	}
	/* NOOP brings this session's view up to date (expunges and new mail
	 * other clients made); STATUS then counts what the session sees */
	r = mailimap_noop(c->s);
	if (r != MAILIMAP_NO_ERROR) {
		snprintf(err, errlen, "imap: NOOP failed (%d)", r);
		return IMS_ETEMP;
	}
	{
		struct mailimap_status_att_list *al = mailimap_status_att_list_new_empty();
		struct mailimap_mailbox_data_status *st = NULL;
		clistiter *it;

		if (!al || mailimap_status_att_list_add(al, MAILIMAP_STATUS_ATT_MESSAGES) != 0) {
			if (al)
				mailimap_status_att_list_free(al);
			snprintf(err, errlen, "out of memory");
			return IMS_ETEMP;
		}
		r = mailimap_status(c->s, folder, al, &st);
		mailimap_status_att_list_free(al);
		if (r != MAILIMAP_NO_ERROR || !st) {
			snprintf(err, errlen, "imap: STATUS failed (%d)", r);
			return IMS_ETEMP;
		}
		*exists = 0;
		for (it = clist_begin(st->st_info_list); it; it = clist_next(it)) {
			struct mailimap_status_info *si = clist_content(it);

			if (si->st_att == MAILIMAP_STATUS_ATT_MESSAGES)
				*exists = si->st_value;
		}
		mailimap_mailbox_data_status_free(st);
	}
	return IMS_OK;
}

ims_status ims_imap_fetch(struct ims_imap *im, const char *user, const char *folder,
                          unsigned long hi, unsigned long count, unsigned long *uidvalidity,
                          json_t **rows, char *err, size_t errlen)
{
	unsigned long lo, n = 0, *exists = &n;
	struct conn *c;
	struct mailimap_set *set = NULL;
	struct mailimap_fetch_type *ft = NULL;
	clist *result = NULL;
	clistiter *it;
	json_t *out = NULL;
	ims_status rc;
	int r;

	*rows = NULL;
	*uidvalidity = 0;
	err[0] = '\0';
	if (!ims_imap_folder_ok(folder)) {
		snprintf(err, errlen, "folder name needs modified UTF-7");
		return IMS_EINVAL;
	}
	if (!(c = conn_for(im, user, err, errlen)))
		return IMS_ETEMP;
	rc = sync_folder(c, folder, exists, err, errlen);
	if (rc != IMS_OK)
		goto out;
	*uidvalidity = c->s->imap_selection_info ? c->s->imap_selection_info->sel_uidvalidity : 0;
	if (hi == 0 || hi > *exists)
		hi = *exists;
	lo = hi > count ? hi - count + 1 : 1;
	rc = IMS_OK;
	if (!(out = json_array())) {
		rc = IMS_ENOMEM;
		goto out;
	}
	if (hi == 0 || lo > hi)
		goto out;
	rc = IMS_ETEMP;
	set = mailimap_set_new_interval((uint32_t)lo, (uint32_t)hi);
	ft = page_fetch_type();
	if (!set || !ft) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	r = mailimap_fetch(c->s, set, ft, &result);
	if (r != MAILIMAP_NO_ERROR) {
		snprintf(err, errlen, "imap: FETCH failed (%d)", r);
		goto out;
	}
	for (it = clist_begin(result); it; it = clist_next(it)) {
		json_t *row = row_of(clist_content(it));

		if (!row || json_array_append_new(out, row) != 0) {
			rc = IMS_ENOMEM;
			goto out;
		}
	}
	rc = IMS_OK;
out:
	if (result)
		mailimap_fetch_list_free(result);
	if (set)
		mailimap_set_free(set);
	if (ft)
		mailimap_fetch_type_free(ft);
	if (rc == IMS_OK) {
		*rows = out;
		out = NULL;
	} else if (rc != IMS_ENOTFOUND) {
		conn_drop(c); /* a half-read answer leaves the stream unusable */
	}
	json_decref(out);
	return rc;
}
