/* A user's mail in Dovecot: see mailbox.h.  Each function builds one
 * batch of doveadm commands (one HTTP request) where it can. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "log.h"
#include "mailbox.h"

/* Paging reads this many more messages below a cursor than a page holds,
 * so messages expunged meanwhile (which shift sequence numbers down) do
 * not shorten the page; more than that only shortens it, never skips. */
#define PAGE_SLACK 16
/* A search answers at most this many hits (newest kept). */
#define SEARCH_MAX 100000

static const char *const list_fields[] = {"uid",
                                          "seq",
                                          "flags",
                                          "mailbox-guid",
                                          "date.received.unixtime",
                                          "size.virtual",
                                          "hdr.from",
                                          "hdr.to",
                                          "hdr.subject",
                                          "hdr.date",
                                          "hdr.x-ims-scan-id",
                                          "hdr.content-type",
                                          "body.snippet"};

static const struct {
	const char *name, *role;
} roles[] = {{"INBOX", "inbox"},
             {"Junk", "junk"},
             {"Sent", "sent"},
             {"Trash", "trash"},
             {"Drafts", "drafts"}};

int ims_mbox_id_parse(const char *id, struct ims_msgref *out)
{
	unsigned long uid = 0;
	size_t i;

	for (i = 0; i < 32; i++) {
		char ch = id[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return -1;
		out->guid[i] = ch;
	}
	out->guid[32] = '\0';
	if (id[32] != '-' || id[33] < '1' || id[33] > '9')
		return -1;
	for (i = 33; id[i]; i++) {
		if (id[i] < '0' || id[i] > '9' || i > 42)
			return -1;
		uid = uid * 10 + (unsigned long)(id[i] - '0');
	}
	if (uid == 0 || uid > 4294967295ul)
		return -1;
	out->uid = uid;
	return 0;
}

bool ims_mbox_folder_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > IMS_MBOX_FOLDER_MAX || !g_utf8_validate(name, (gssize)n, NULL))
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '*' || *p == '%')
			return false;
	return true;
}

static const char *role_of(const char *name)
{
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
		if (strcmp(roles[i].name, name) == 0)
			return roles[i].role;
	return NULL;
}

/* One row's string field, "" when absent. */
static const char *field(json_t *row, const char *name)
{
	const char *v = json_string_value(json_object_get(row, name));

	return v ? v : "";
}

static json_int_t int_field(json_t *row, const char *name)
{
	return (json_int_t)strtoll(field(row, name), NULL, 10);
}

static json_t *fields_array(const char *const *names, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

/* Runs b; on success the rows of command i. */
static ims_status run_one(struct ims_dove *d, struct ims_dove_batch *b, size_t i, json_t **rows,
                          char *err, size_t errlen)
{
	ims_status rc = ims_dove_run(d, b, err, errlen);

	if (rc != IMS_OK)
		return rc;
	rc = ims_dove_result(b, i, rows);
	if (rc != IMS_OK && !err[0])
		snprintf(err, errlen, "doveadm: command %zu failed (%s)", i, ims_strstatus(rc));
	return rc;
}

/* A header value as the web shows it: RFC 2047 words decoded, folding
 * and control characters turned into spaces.  NULL when the header is
 * absent. */
static json_t *header_value(json_t *row, const char *name)
{
	const char *v = json_string_value(json_object_get(row, name));
	char *dec;
	json_t *j;

	if (!v || !*v)
		return json_null();
	/* plain printable ASCII (most headers) needs no decoding */
	{
		const unsigned char *p = (const unsigned char *)v;

		while (*p >= 0x20 && *p < 0x7f && !(p[0] == '=' && p[1] == '?'))
			p++;
		if (!*p)
			return json_string(v);
	}
	dec = g_mime_utils_header_decode_text(NULL, v);
	if (!dec)
		return json_string(v);
	for (char *p = dec; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	g_strstrip(dec);
	j = json_string(dec);
	g_free(dec);
	return j ? j : json_null();
}

static int has_flag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);

	for (const char *p = flags; (p = strstr(p, flag)); p += n)
		if ((p == flags || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return 1;
	return 0;
}

/* The X-IMS-Scan-Id of a row: the first token, or null. */
static json_t *scan_id(json_t *row)
{
	const char *v = field(row, "hdr.x-ims-scan-id");
	size_t n;

	v += strspn(v, " \t\r\n");
	n = strcspn(v, " \t\r\n,");
	return n && n <= 64 ? json_stringn(v, n) : json_null();
}

/* Dovecot's snippet (the first ~200 characters of the text, HTML turned
 * into text) without its leading version digit, one line. */
static json_t *snippet(json_t *row)
{
	const char *v = field(row, "body.snippet");
	json_t *j;
	char *s;

	if (*v == '0' || *v == '1')
		v++;
	if (!(s = strdup(v)))
		return json_null();
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	j = json_string(s); /* NULL (not UTF-8): no snippet */
	free(s);
	return j ? j : json_string("");
}

/* Whether the message is multipart/mixed, the shape of mail with files
 * attached (what mail clients show a paper clip for in a list): for mail
 * saved before Dovecot's $HasAttachment keyword (10-ims.conf) was set. */
static int looks_attached(json_t *row)
{
	const char *ct = field(row, "hdr.content-type");

	ct += strspn(ct, " \t\r\n");
	return g_ascii_strncasecmp(ct, "multipart/mixed", 15) == 0;
}

static json_t *list_item(json_t *row, const char *folder)
{
	char id[IMS_MBOX_ID_MAX];
	const char *flags = field(row, "flags");
	json_t *item;

	snprintf(id, sizeof id, "%.32s-%s", field(row, "mailbox-guid"), field(row, "uid"));
	item = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:I, s:b, s:b, s:b, s:o}", "id", id,
	                 "folder", folder, "from", header_value(row, "hdr.from"), "to",
	                 header_value(row, "hdr.to"), "subject", header_value(row, "hdr.subject"),
	                 "date", header_value(row, "hdr.date"), "received",
	                 int_field(row, "date.received.unixtime") * 1000, "size",
	                 int_field(row, "size.virtual"), "seen", has_flag(flags, "\\Seen"),
	                 "flagged", has_flag(flags, "\\Flagged"), "answered",
	                 has_flag(flags, "\\Answered"), "scan_id", scan_id(row));
	if (item) {
		json_object_set_new(item, "snippet", snippet(row));
		json_object_set_new(
		    item, "attachment",
		    json_boolean(has_flag(flags, "$HasAttachment") || looks_attached(row)));
		json_object_set_new(item, "draft", json_boolean(has_flag(flags, "\\Draft")));
	}
	return item;
}

ims_status ims_mbox_folders(struct ims_dove *d, const char *user, json_t **out, char *err,
                            size_t errlen)
{
	struct ims_dove_batch *b = ims_dove_batch_new(user);
	json_t *rows = NULL, *list = json_array(), *inbox = NULL;
	ims_status rc = IMS_ENOMEM;
	size_t i;
	json_t *row;

	*out = NULL;
	if (!b || !list)
		goto out;
	ims_dove_add(
	    b, "mailboxStatus",
	    json_pack("{s:[s, s], s:[s]}", "field", "messages", "unseen", "mailboxMask", "*"));
	rc = run_one(d, b, 0, &rows, err, errlen);
	if (rc != IMS_OK)
		goto out;
	json_array_foreach(rows, i, row)
	{
		const char *name = field(row, "mailbox"), *role = role_of(name);
		json_t *f =
		    json_pack("{s:s, s:s?, s:I, s:I}", "name", name, "role", role, "messages",
		              int_field(row, "messages"), "unseen", int_field(row, "unseen"));

		if (!f) {
			rc = IMS_ENOMEM;
			goto out;
		}
		if (strcmp(name, "INBOX") == 0 && !inbox)
			inbox = f;
		else
			json_array_append_new(list, f);
	}
	/* the standard folders are there for every client (auto = subscribe)
	 * before Dovecot made them on disk */
	for (i = 0; i < sizeof roles / sizeof roles[0]; i++) {
		size_t k;
		int have = inbox && i == 0;

		json_array_foreach(list, k, row) have |=
		    strcmp(json_string_value(json_object_get(row, "name")), roles[i].name) == 0;
		if (!have)
			json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:i}", "name",
			                                      roles[i].name, "role", roles[i].role,
			                                      "messages", 0, "unseen", 0));
	}
	if (inbox)
		json_array_insert_new(list, 0, inbox);
	*out = list;
	list = NULL;
out:
	json_decref(list);
	ims_dove_batch_free(b);
	return rc;
}

/* "UID.SEQ" -> uid, seq (seq may be 0 in a search's cursor). */
static int parse_cursor(const char *c, unsigned long *uid, unsigned long *seq)
{
	char *end;

	if (!c || strlen(c) >= IMS_MBOX_CURSOR_MAX || c[0] < '0' || c[0] > '9')
		return -1;
	*uid = strtoul(c, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -1;
	*seq = strtoul(end + 1, &end, 10);
	return *end == '\0' && *uid > 0 && *uid <= 4294967295ul && *seq <= 4294967295ul ? 0 : -1;
}

bool ims_mbox_cursor_valid(const char *cursor)
{
	unsigned long uid, seq;

	return parse_cursor(cursor, &uid, &seq) == 0;
}

static int cmp_desc(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The uids of the newest limit+1 search hits below before_uid (0: all),
 * newest first, as an IMAP uid set in set (the first limit only) and the
 * count in *n (up to limit + 1). */
static ims_status search_uids(struct ims_dove *d, const char *user, const char *folder,
                              unsigned long before_uid, const char *q, size_t limit,
                              unsigned long **uids, size_t *n, char *err, size_t errlen)
{
	struct ims_dove_batch *b = ims_dove_batch_new(user);
	json_t *query = NULL, *rows = NULL, *row;
	unsigned long *all = NULL;
	size_t i, k = 0;
	char range[32];
	ims_status rc = IMS_ENOMEM;

	*uids = NULL;
	*n = 0;
	query = json_pack("[s, s]", "mailbox", folder);
	if (!b || !query)
		goto out;
	if (before_uid) {
		snprintf(range, sizeof range, "1:%lu", before_uid - 1);
		json_array_append_new(query, json_string("UID"));
		json_array_append_new(query, json_string(range));
	}
	{
		/* doveadm's OR is infix, in parentheses beside the ANDs */
		json_t *more = json_pack("[s, s, s, s, s, s, s, s, s, s]", "(", "FROM", q, "OR",
		                         "SUBJECT", q, "OR", "BODY", q, ")");
		if (!more)
			goto out;
		json_array_extend(query, more);
		json_decref(more);
	}
	ims_dove_add(b, "search", json_pack("{s:O}", "query", query));
	rc = run_one(d, b, 0, &rows, err, errlen);
	if (rc != IMS_OK)
		goto out;
	rc = IMS_ENOMEM;
	all = malloc((json_array_size(rows) + 1) * sizeof *all);
	if (!all)
		goto out;
	json_array_foreach(rows, i, row)
	{
		if (k >= SEARCH_MAX)
			break;
		all[k++] = (unsigned long)int_field(row, "uid");
	}
	qsort(all, k, sizeof *all, cmp_desc);
	*n = k < limit + 1 ? k : limit + 1;
	*uids = all;
	all = NULL;
	rc = IMS_OK;
out:
	free(all);
	json_decref(query);
	ims_dove_batch_free(b);
	return rc;
}

/* Each worker thread remembers how many messages the folders it listed
 * last had, so the first page of a folder is one doveadm command (a fetch
 * of the last ones up to "*"), not two (a status for the count, then the
 * fetch): each command costs Dovecot its user set-up, 2-6 ms of CPU. */
#define COUNT_HINTS 16
static _Thread_local struct {
	char user[321], folder[IMS_MBOX_FOLDER_MAX + 1];
	unsigned long count;
} hints[COUNT_HINTS];
static _Thread_local unsigned hint_next;

static unsigned long hint_get(const char *user, const char *folder)
{
	for (unsigned k = 0; k < COUNT_HINTS; k++)
		if (hints[k].count && strcmp(hints[k].user, user) == 0 &&
		    strcmp(hints[k].folder, folder) == 0)
			return hints[k].count;
	return 0;
}

static void hint_set(const char *user, const char *folder, unsigned long count)
{
	unsigned k;

	if (strlen(user) >= sizeof hints[0].user)
		return;
	for (k = 0; k < COUNT_HINTS; k++)
		if (strcmp(hints[k].user, user) == 0 && strcmp(hints[k].folder, folder) == 0)
			break;
	if (k == COUNT_HINTS)
		k = hint_next++ % COUNT_HINTS;
	snprintf(hints[k].user, sizeof hints[k].user, "%s", user);
	snprintf(hints[k].folder, sizeof hints[k].folder, "%s", folder);
	hints[k].count = count;
}

/* Fetches the list fields of the messages of folder matching seqset into
 * *rows (borrowed from *b, which the caller frees). */
static ims_status fetch_rows(struct ims_dove *d, const char *user, json_t *query,
                             struct ims_dove_batch **b, json_t **rows, char *err, size_t errlen)
{
	*b = ims_dove_batch_new(user);
	if (!*b || !query) {
		json_decref(query);
		return IMS_ENOMEM;
	}
	ims_dove_add(
	    *b, "fetch",
	    json_pack("{s:o, s:o}", "field",
	              fields_array(list_fields, sizeof list_fields / sizeof list_fields[0]),
	              "query", query));
	return run_one(d, *b, 0, rows, err, errlen);
}

/* The newest limit messages of folder: one fetch from the remembered
 * count on (a few more than a page, up to "*"), or, without a count or
 * when the folder shrank below it, a status and a fetch. */
static ims_status newest_rows(struct ims_dove *d, const char *user, const char *folder,
                              size_t limit, struct ims_dove_batch **b, json_t **rows, char *err,
                              size_t errlen)
{
	unsigned long hint = hint_get(user, folder), hi, lo;
	char set[48];
	ims_status rc;

	if (hint) {
		lo = hint > limit + PAGE_SLACK ? hint - limit - PAGE_SLACK + 1 : 1;
		snprintf(set, sizeof set, "%lu:*", lo);
		rc = fetch_rows(d, user, json_pack("[s, s, s]", "mailbox", folder, set), b, rows,
		                err, errlen);
		if (rc != IMS_OK)
			return rc;
		/* fewer than a page from lo on: the folder shrank below the
		 * count (and "lo:*" past the end is the last message only) */
		if (json_array_size(*rows) >= limit || lo == 1) {
			hint_set(user, folder,
			         json_array_size(*rows)
			             ? (unsigned long)int_field(
			                   json_array_get(*rows, json_array_size(*rows) - 1), "seq")
			             : 0);
			return IMS_OK;
		}
		ims_dove_batch_free(*b);
		*b = NULL;
	}
	{
		struct ims_dove_batch *sb = ims_dove_batch_new(user);
		json_t *st = NULL;

		if (!sb)
			return IMS_ENOMEM;
		ims_dove_add(
		    sb, "mailboxStatus",
		    json_pack("{s:[s], s:[s]}", "field", "messages", "mailboxMask", folder));
		rc = run_one(d, sb, 0, &st, err, errlen);
		if (rc == IMS_OK && json_array_size(st) == 0)
			rc = IMS_ENOTFOUND;
		hi = rc == IMS_OK ? (unsigned long)int_field(json_array_get(st, 0), "messages") : 0;
		ims_dove_batch_free(sb);
		if (rc != IMS_OK)
			return rc;
	}
	hint_set(user, folder, hi);
	*rows = NULL;
	if (hi == 0)
		return IMS_OK;
	lo = hi > limit ? hi - limit + 1 : 1;
	snprintf(set, sizeof set, "%lu:%lu", lo, hi);
	return fetch_rows(d, user, json_pack("[s, s, s]", "mailbox", folder, set), b, rows, err,
	                  errlen);
}

/* Dovecot's snippets of messages whose page came over IMAP, which cannot
 * ask for them (libetpan does not parse SNIPPET/PREVIEW): a message never
 * changes, so its snippet is read once through doveadm and kept here, by
 * user and message id; at most SNIPPETS_MAX (then the cache starts over). */
#define SNIPPETS_MAX 20000
static pthread_mutex_t snippets_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *snippets; /* "user\nid" -> snippet text (g_free) */

static char *snippet_key(const char *user, const char *id)
{
	return g_strconcat(user, "\n", id, NULL);
}

/* Sets "snippet" on each item of list (one folder, IMAP-read): from the
 * cache, the rest with one doveadm fetch.  A failed fetch leaves them ""
 * (the page is still the page). */
static void fill_snippets(struct ims_dove *d, const char *user, json_t *list)
{
	GString *uids = g_string_new(NULL);
	struct ims_dove_batch *b = NULL;
	json_t *it, *rows = NULL, *row;
	const char *guid = NULL;
	char err[256] = "";
	size_t i;

	pthread_mutex_lock(&snippets_lock);
	if (!snippets)
		snippets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	json_array_foreach(list, i, it)
	{
		const char *id = json_string_value(json_object_get(it, "id"));
		char *key = snippet_key(user, id);
		const char *s = g_hash_table_lookup(snippets, key);

		g_free(key);
		if (s) {
			json_object_set_new(it, "snippet", json_string(s));
		} else if (strlen(id) > 33) {
			guid = guid ? guid : id;
			g_string_append_printf(uids, "%s%s", uids->len ? "," : "", id + 33);
		}
	}
	pthread_mutex_unlock(&snippets_lock);
	if (!uids->len)
		goto out;
	if (!(b = ims_dove_batch_new(user)))
		goto out;
	{
		char g[33];

		snprintf(g, sizeof g, "%.32s", guid);
		ims_dove_add(b, "fetch",
		             json_pack("{s:[s, s], s:[s, s, s, s]}", "field", "uid", "body.snippet",
		                       "query", "mailbox-guid", g, "UID", uids->str));
	}
	if (run_one(d, b, 0, &rows, err, sizeof err) != IMS_OK) {
		ims_log_warn(NULL, "event=snippets_failed user=%s error=\"%s\"", user, err);
		goto out;
	}
	pthread_mutex_lock(&snippets_lock);
	if (g_hash_table_size(snippets) + json_array_size(rows) > SNIPPETS_MAX)
		g_hash_table_remove_all(snippets);
	json_array_foreach(rows, i, row)
	{
		json_t *s = snippet(row);
		const char *uid = field(row, "uid");
		size_t k;

		json_array_foreach(list, k, it)
		{
			const char *id = json_string_value(json_object_get(it, "id"));

			if (strlen(id) > 33 && strcmp(id + 33, uid) == 0) {
				json_object_set(it, "snippet", s);
				g_hash_table_replace(snippets, snippet_key(user, id),
				                     g_strdup(json_string_value(s)));
			}
		}
		json_decref(s);
	}
	pthread_mutex_unlock(&snippets_lock);
out:
	ims_dove_batch_free(b);
	g_string_free(uids, TRUE);
}

/* The page below a cursor: the cursor's message is at or below sequence
 * number cur_seq now. */
static ims_status fetch_below(struct ims_dove *d, const char *user, const char *folder,
                              unsigned long cur_seq, size_t limit, struct ims_dove_batch **b,
                              json_t **rows, char *err, size_t errlen)
{
	unsigned long hi = cur_seq, lo = hi > limit + PAGE_SLACK ? hi - limit - PAGE_SLACK : 1;
	char set[48];

	snprintf(set, sizeof set, "%lu:%lu", lo, hi);
	return fetch_rows(d, user, json_pack("[s, s, s]", "mailbox", folder, set), b, rows, err,
	                  errlen);
}

/* The mailbox GUID of user's folder (imap.h's guid_of: once per folder a
 * pooled IMAP connection opens). */
static ims_status folder_guid(void *ctx, const char *user, const char *folder, char guid[33],
                              char *err, size_t errlen)
{
	struct ims_dove_batch *b = ims_dove_batch_new(user);
	json_t *rows = NULL;
	const char *g;
	ims_status rc;

	if (!b)
		return IMS_ENOMEM;
	ims_dove_add(b, "mailboxStatus",
	             json_pack("{s:[s], s:[s]}", "field", "guid", "mailboxMask", folder));
	rc = run_one(ctx, b, 0, &rows, err, errlen);
	g = field(json_array_get(rows, 0), "guid");
	if (rc == IMS_OK && strlen(g) != 32)
		rc = IMS_ENOTFOUND;
	if (rc == IMS_OK)
		memcpy(guid, g, 33);
	ims_dove_batch_free(b);
	return rc;
}

ims_status ims_mbox_list(struct ims_dove *d, struct ims_imap *im, const char *user,
                         const char *folder, const char *cursor, const char *query, size_t limit,
                         json_t **items, char next[IMS_MBOX_CURSOR_MAX], char *err, size_t errlen)
{
	struct ims_dove_batch *b = NULL;
	json_t *rows = NULL, *list = NULL, *row, *owned = NULL; /* owned: rows over IMAP */
	unsigned long cur_uid = 0, cur_seq = 0, *hits = NULL;
	size_t nhits = 0, i;
	char *uidset = NULL;
	int searching = query && *query;
	ims_status rc = IMS_ENOMEM;

	*items = NULL;
	next[0] = '\0';
	err[0] = '\0';
	if (cursor && *cursor && parse_cursor(cursor, &cur_uid, &cur_seq) != 0) {
		snprintf(err, errlen, "bad cursor");
		return IMS_EINVAL;
	}
	if (searching) {
		size_t len = 0;

		rc =
		    search_uids(d, user, folder, cur_uid, query, limit, &hits, &nhits, err, errlen);
		if (rc != IMS_OK || nhits == 0)
			goto render;
		rc = IMS_ENOMEM;
		/* a UID is at most 20 digits as an unsigned long, and a comma */
		size_t cap = nhits * 21 + 1;
		uidset = malloc(cap);
		if (!uidset)
			goto out;
		for (i = 0; i < nhits && i < limit; i++)
			len += (size_t)snprintf(uidset + len, cap - len, "%s%lu", i ? "," : "",
			                        hits[i]);
		rc =
		    fetch_rows(d, user, json_pack("[s, s, s, s]", "mailbox", folder, "UID", uidset),
		               &b, &rows, err, errlen);
	} else if (im && ims_imap_folder_ok(folder) && (!cur_uid || cur_seq > 1)) {
		/* the hot path: a logged-in IMAP connection, no doveadm set-up;
		 * below a cursor a few more than a page (see PAGE_SLACK) */
		rc = ims_imap_fetch(im, user, folder, cur_uid ? cur_seq : 0,
		                    cur_uid ? limit + PAGE_SLACK + 1 : limit, folder_guid, d,
		                    &owned, err, errlen);
		rows = owned;
		if (rc == IMS_OK || rc == IMS_ENOTFOUND || rc == IMS_ENOMEM)
			goto render;
		/* pool busy or IMAP failed: doveadm answers this one */
		if (rc != IMS_ELIMIT)
			ims_log_warn(NULL, "event=imap_failed user=%s error=\"%s\"", user, err);
		err[0] = '\0';
		rc = cur_uid ? fetch_below(d, user, folder, cur_seq, limit, &b, &rows, err, errlen)
		             : newest_rows(d, user, folder, limit, &b, &rows, err, errlen);
	} else if (!cur_uid) {
		rc = newest_rows(d, user, folder, limit, &b, &rows, err, errlen);
	} else if (cur_seq > 1) {
		rc = fetch_below(d, user, folder, cur_seq, limit, &b, &rows, err, errlen);
	} else {
		rc = IMS_OK; /* the last page was the end */
	}
render:
	if (rc != IMS_OK)
		goto out;
	rc = IMS_ENOMEM;
	if (!(list = json_array()))
		goto out;
	/* rows come oldest first: walk them backwards */
	{
		unsigned long last_uid = 0, last_seq = 0;

		for (i = json_array_size(rows); i-- > 0;) {
			unsigned long uid;

			row = json_array_get(rows, i);
			uid = (unsigned long)int_field(row, "uid");
			if (uid == 0)
				continue;
			if (cur_uid && uid >= cur_uid)
				continue; /* shown on an earlier page */
			if (json_array_size(list) == limit)
				break;
			json_array_append_new(list, list_item(row, folder));
			last_uid = uid;
			last_seq = (unsigned long)int_field(row, "seq");
		}
		if (owned && rows == owned)
			fill_snippets(d, user, list); /* the page came over IMAP */
		if (searching) {
			if (nhits > limit && last_uid)
				snprintf(next, IMS_MBOX_CURSOR_MAX, "%lu.0", last_uid);
		} else if (last_uid && last_seq > 1) {
			snprintf(next, IMS_MBOX_CURSOR_MAX, "%lu.%lu", last_uid, last_seq);
		}
	}
	*items = list;
	list = NULL;
	rc = IMS_OK;
out:
	json_decref(owned);
	json_decref(list);
	free(uidset);
	free(hits);
	ims_dove_batch_free(b);
	return rc;
}

/* [mailbox-guid G uid U] */
static json_t *ref_query(const struct ims_msgref *ref)
{
	char uid[16];

	snprintf(uid, sizeof uid, "%lu", ref->uid);
	return json_pack("[s, s, s, s]", "mailbox-guid", ref->guid, "UID", uid);
}

ims_status ims_mbox_fetch(struct ims_dove *d, const char *user, const struct ims_msgref *ref,
                          bool mark_seen, json_t **out, char *err, size_t errlen)
{
	return ims_mbox_read(d, NULL, user, ref, mark_seen, out, err, errlen);
}

/* The message's text through doveadm (bytes that are not UTF-8 come as
 * U+FFFD): the fallback when IMAP cannot read it. */
static ims_status text_by_doveadm(struct ims_dove *d, const char *user,
                                  const struct ims_msgref *ref, json_t **text, char *err,
                                  size_t errlen)
{
	struct ims_dove_batch *b = ims_dove_batch_new(user);
	json_t *rows = NULL;
	ims_status rc = IMS_ENOMEM;

	*text = NULL;
	if (!b)
		return rc;
	ims_dove_add(b, "fetch",
	             json_pack("{s:[s], s:o}", "field", "text", "query", ref_query(ref)));
	rc = run_one(d, b, 0, &rows, err, errlen);
	if (rc == IMS_OK && json_array_size(rows) != 1)
		rc = IMS_ENOTFOUND;
	if (rc == IMS_OK &&
	    !(*text = json_incref(json_object_get(json_array_get(rows, 0), "text"))))
		rc = IMS_ENOTFOUND;
	ims_dove_batch_free(b);
	return rc;
}

ims_status ims_mbox_read(struct ims_dove *d, struct ims_imap *im, const char *user,
                         const struct ims_msgref *ref, bool mark_seen, json_t **out, char *err,
                         size_t errlen)
{
	struct ims_dove_batch *b = ims_dove_batch_new(user);
	json_t *rows = NULL, *row, *text = NULL;
	ims_status rc = IMS_ENOMEM;

	*out = NULL;
	err[0] = '\0';
	if (!b)
		goto out;
	/* with IMAP the bytes come from there (below), the rest from here */
	ims_dove_add(b, "fetch",
	             im ? json_pack("{s:[s, s, s, s], s:o}", "field", "mailbox", "flags",
	                            "date.received.unixtime", "hdr.x-ims-scan-id", "query",
	                            ref_query(ref))
	                : json_pack("{s:[s, s, s, s, s], s:o}", "field", "mailbox", "flags",
	                            "date.received.unixtime", "hdr.x-ims-scan-id", "text", "query",
	                            ref_query(ref)));
	if (mark_seen)
		ims_dove_add(b, "flagsAdd",
		             json_pack("{s:[s], s:o}", "flag", "\\Seen", "query", ref_query(ref)));
	rc = run_one(d, b, 0, &rows, err, errlen);
	if (rc != IMS_OK)
		goto out;
	if (json_array_size(rows) != 1) {
		rc = IMS_ENOTFOUND;
		goto out;
	}
	row = json_array_get(rows, 0);
	if (!im) {
		text = json_incref(json_object_get(row, "text"));
	} else {
		char *raw = NULL;
		size_t len = 0;

		rc = IMS_ELIMIT;
		if (ims_imap_folder_ok(field(row, "mailbox")))
			rc = ims_imap_fetch_raw(im, user, field(row, "mailbox"), ref->guid,
			                        ref->uid, IMS_DOVE_MAX_RESPONSE, folder_guid, d,
			                        &raw, &len, err, errlen);
		if (rc == IMS_OK) {
			/* the bytes as they are (not UTF-8 when the mail is 8-bit) */
			text = json_stringn_nocheck(raw, len);
			free(raw);
			if (!text) {
				rc = IMS_ENOMEM;
				goto out;
			}
		} else if (rc == IMS_ENOTFOUND || rc == IMS_ENOMEM) {
			goto out; /* moved or expunged since */
		} else {
			if (rc != IMS_ELIMIT)
				ims_log_warn(NULL, "event=imap_failed user=%s error=\"%s\"", user,
				             err);
			err[0] = '\0';
			rc = text_by_doveadm(d, user, ref, &text, err, errlen);
			if (rc != IMS_OK)
				goto out;
		}
	}
	if (!json_is_string(text)) {
		rc = IMS_ENOTFOUND;
		goto out;
	}
	{
		json_t *flags = json_array();
		char *fl = strdup(field(row, "flags"));

		for (char *save = NULL, *t = fl ? strtok_r(fl, " ", &save) : NULL; t;
		     t = strtok_r(NULL, " ", &save))
			if (strcmp(t, "\\Recent") != 0)
				json_array_append_new(flags, json_string(t));
		free(fl);
		if (mark_seen && !has_flag(field(row, "flags"), "\\Seen"))
			json_array_append_new(flags, json_string("\\Seen"));
		*out =
		    json_pack("{s:s, s:o, s:I, s:o, s:O}", "folder", field(row, "mailbox"), "flags",
		              flags, "received", int_field(row, "date.received.unixtime") * 1000,
		              "scan_id", scan_id(row), "text", text);
	}
	rc = *out ? IMS_OK : IMS_ENOMEM;
out:
	json_decref(text);
	ims_dove_batch_free(b);
	return rc;
}

/* Adds "fetch mailbox" of ref as command 0 of b (to tell "no such
 * message" from "done"). */
static void add_exists(struct ims_dove_batch *b, const struct ims_msgref *ref)
{
	ims_dove_add(b, "fetch",
	             json_pack("{s:[s], s:o}", "field", "mailbox", "query", ref_query(ref)));
}

/* Runs b whose command 0 is add_exists; *folder (optional) gets the
 * message's folder. */
static ims_status run_on_message(struct ims_dove *d, struct ims_dove_batch *b, char *folder,
                                 char *err, size_t errlen)
{
	json_t *rows = NULL;
	ims_status rc = run_one(d, b, 0, &rows, err, errlen);

	if (rc != IMS_OK)
		return rc;
	if (json_array_size(rows) != 1)
		return IMS_ENOTFOUND;
	if (folder)
		snprintf(folder, IMS_MBOX_FOLDER_MAX + 1, "%s",
		         field(json_array_get(rows, 0), "mailbox"));
	return IMS_OK;
}

/* The status of every command after the first. */
static ims_status rest_ok(struct ims_dove_batch *b, size_t n, char *err, size_t errlen)
{
	json_t *rows;

	for (size_t i = 1; i < n; i++) {
		ims_status rc = ims_dove_result(b, i, &rows);

		if (rc != IMS_OK) {
			snprintf(err, errlen, "doveadm: command %zu failed (%s)", i,
			         ims_strstatus(rc));
			return rc;
		}
	}
	return IMS_OK;
}

ims_status ims_mbox_flags(struct ims_dove *d, const char *user, const struct ims_msgref *ref,
                          int seen, int flagged, char *err, size_t errlen)
{
	struct ims_dove_batch *b = ims_dove_batch_new(user);
	size_t n = 1;
	ims_status rc = IMS_ENOMEM;

	if (!b)
		goto out;
	add_exists(b, ref);
	if (seen >= 0) {
		ims_dove_add(b, seen ? "flagsAdd" : "flagsRemove",
		             json_pack("{s:[s], s:o}", "flag", "\\Seen", "query", ref_query(ref)));
		n++;
	}
	if (flagged >= 0) {
		ims_dove_add(
		    b, flagged ? "flagsAdd" : "flagsRemove",
		    json_pack("{s:[s], s:o}", "flag", "\\Flagged", "query", ref_query(ref)));
		n++;
	}
	rc = run_on_message(d, b, NULL, err, errlen);
	if (rc == IMS_OK)
		rc = rest_ok(b, n, err, errlen);
out:
	ims_dove_batch_free(b);
	return rc;
}

ims_status ims_mbox_move(struct ims_dove *d, const char *user, const struct ims_msgref *ref,
                         const char *folder, char *from, char *err, size_t errlen)
{
	struct ims_dove_batch *b = ims_dove_batch_new(user);
	char here[IMS_MBOX_FOLDER_MAX + 1];
	ims_status rc = IMS_ENOMEM;

	if (!b)
		goto out;
	add_exists(b, ref);
	ims_dove_add(
	    b, "move",
	    json_pack("{s:s, s:o}", "destinationMailbox", folder, "query", ref_query(ref)));
	rc = run_on_message(d, b, here, err, errlen);
	if (rc == IMS_OK)
		rc = rest_ok(b, 2, err, errlen);
	if (from && rc == IMS_OK)
		memcpy(from, here, sizeof here);
out:
	ims_dove_batch_free(b);
	return rc;
}

ims_status ims_mbox_delete(struct ims_dove *d, const char *user, const struct ims_msgref *ref,
                           bool *expunged, char *err, size_t errlen)
{
	struct ims_dove_batch *b = ims_dove_batch_new(user);
	char folder[IMS_MBOX_FOLDER_MAX + 1];
	ims_status rc = IMS_ENOMEM;

	*expunged = false;
	if (!b)
		goto out;
	add_exists(b, ref);
	rc = run_on_message(d, b, folder, err, errlen);
	if (rc != IMS_OK)
		goto out;
	if (strcmp(folder, "Trash") != 0) {
		rc = ims_mbox_move(d, user, ref, "Trash", NULL, err, errlen);
		goto out;
	}
	ims_dove_batch_free(b);
	rc = IMS_ENOMEM;
	if (!(b = ims_dove_batch_new(user)))
		goto out;
	add_exists(b, ref);
	ims_dove_add(b, "expunge", json_pack("{s:o}", "query", ref_query(ref)));
	rc = run_on_message(d, b, NULL, err, errlen);
	if (rc == IMS_OK)
		rc = rest_ok(b, 2, err, errlen);
	*expunged = rc == IMS_OK;
out:
	ims_dove_batch_free(b);
	return rc;
}

ims_status ims_mbox_expunge(struct ims_dove *d, const char *user, const struct ims_msgref *ref,
                            char *err, size_t errlen)
{
	struct ims_dove_batch *b = ims_dove_batch_new(user);
	ims_status rc = IMS_ENOMEM;

	if (!b)
		return rc;
	add_exists(b, ref);
	ims_dove_add(b, "expunge", json_pack("{s:o}", "query", ref_query(ref)));
	rc = run_on_message(d, b, NULL, err, errlen);
	if (rc == IMS_OK)
		rc = rest_ok(b, 2, err, errlen);
	ims_dove_batch_free(b);
	return rc;
}

ims_status ims_mbox_empty_trash(struct ims_dove *d, const char *user, char *err, size_t errlen)
{
	struct ims_dove_batch *b = ims_dove_batch_new(user);
	json_t *rows;
	ims_status rc = IMS_ENOMEM;

	if (!b)
		return rc;
	ims_dove_add(b, "expunge", json_pack("{s:[s, s, s]}", "query", "mailbox", "Trash", "ALL"));
	rc = run_one(d, b, 0, &rows, err, errlen);
	ims_dove_batch_free(b);
	return rc;
}

ims_status ims_mbox_save(struct ims_dove *d, const char *user, const char *folder, const char *raw,
                         size_t len, const char *message_id, char *err, size_t errlen)
{
	return ims_mbox_save_as(d, user, folder, raw, len, message_id, false, NULL, err, errlen);
}

ims_status ims_mbox_save_as(struct ims_dove *d, const char *user, const char *folder,
                            const char *raw, size_t len, const char *message_id, bool draft,
                            char id[IMS_MBOX_ID_MAX], char *err, size_t errlen)
{
	struct ims_dove_batch *b = ims_dove_batch_new(user);
	json_t *rows;
	size_t n = 1;
	ims_status rc = IMS_ENOMEM;

	if (id)
		id[0] = '\0';
	if (!b)
		return rc;
	ims_dove_add(b, "save", json_pack("{s:s, s:s%}", "mailbox", folder, "file", raw, len));
	if (message_id && *message_id) {
		ims_dove_add(
		    b, "flagsAdd",
		    draft
		        ? json_pack("{s:[s, s], s:[s, s, s, s, s]}", "flag", "\\Seen", "\\Draft",
		                    "query", "mailbox", folder, "HEADER", "Message-ID", message_id)
		        : json_pack("{s:[s], s:[s, s, s, s, s]}", "flag", "\\Seen", "query",
		                    "mailbox", folder, "HEADER", "Message-ID", message_id));
		n++;
		if (id) {
			ims_dove_add(b, "fetch",
			             json_pack("{s:[s, s], s:[s, s, s, s, s]}", "field",
			                       "mailbox-guid", "uid", "query", "mailbox", folder,
			                       "HEADER", "Message-ID", message_id));
			n++;
		}
	}
	rc = run_one(d, b, 0, &rows, err, errlen);
	if (rc == IMS_OK && n > 1)
		rc = rest_ok(b, n, err, errlen);
	if (rc == IMS_OK && id && n == 3 && ims_dove_result(b, 2, &rows) == IMS_OK &&
	    json_array_size(rows) > 0) {
		json_t *row = json_array_get(rows, json_array_size(rows) - 1); /* the newest */

		snprintf(id, IMS_MBOX_ID_MAX, "%.32s-%s", field(row, "mailbox-guid"),
		         field(row, "uid"));
	}
	ims_dove_batch_free(b);
	return rc;
}

ims_status ims_mbox_thread_headers(struct ims_dove *d, const char *user,
                                   const struct ims_msgref *ref, char **msgid, char **refs,
                                   char *err, size_t errlen)
{
	struct ims_dove_batch *b = ims_dove_batch_new(user);
	json_t *rows = NULL, *row;
	const char *m, *r;
	ims_status rc = IMS_ENOMEM;

	*msgid = *refs = NULL;
	if (!b)
		return rc;
	ims_dove_add(b, "fetch",
	             json_pack("{s:[s, s], s:o}", "field", "hdr.message-id", "hdr.references",
	                       "query", ref_query(ref)));
	rc = run_one(d, b, 0, &rows, err, errlen);
	if (rc != IMS_OK)
		goto out;
	if (json_array_size(rows) != 1) {
		rc = IMS_ENOTFOUND;
		goto out;
	}
	row = json_array_get(rows, 0);
	m = field(row, "hdr.message-id");
	r = field(row, "hdr.references");
	rc = IMS_ENOMEM;
	if ((*m && !(*msgid = strdup(m))) || (*r && !(*refs = strdup(r)))) {
		free(*msgid);
		*msgid = NULL;
		goto out;
	}
	rc = IMS_OK;
out:
	ims_dove_batch_free(b);
	return rc;
}
