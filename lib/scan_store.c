/* ims_scan_store: a scan into Redis, per docs/redis-schema.md: the scan
 * log, its brief and its indexes ({global}); the body only of a held
 * message (the quarantine: each local recipient's index, hash tag {ADDR},
 * then the global record; users' first, so a failure part way leaves no
 * global record pointing at nothing).  Delivered mail is Dovecot's alone:
 * the mailbox finds its scan log by X-IMS-Scan-Id. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <time.h>

#include "clicks.h"
#include "events.h"
#include "log.h"
#include "quarantine.h"
#include "correspondents.h"
#include "dashboard.h"
#include "rkeys.h"
#include "scan_internal.h"
#include "store.h"

struct stored_msg {
	const char *raw; /* rewritten message, maybe cut to max_stored_size */
	size_t len, full_len;
	const char *json;
	const char *brief; /* ims_scan_brief_json */
	char rcpt_list[8192];
	char *held_list; /* quarantine: the local recipients it is held for, "a,b" */
	uint64_t retention_ms;
	uint64_t retry_ms; /* what only a retry reads: IMS_RETRY_WINDOW_MS at most */
};

static void txn_kv(struct ims_store_txn *t, const char *k, const char *v)
{
	ims_store_txn_str(t, k);
	ims_store_txn_str(t, v ? v : "");
}

/* Global indexes are trimmed of expired members on about one scan in
 * IMS_TRIM_EVERY (lazily: they are only read by time range), which keeps
 * the per-scan transaction short. */
#define IMS_TRIM_EVERY 16

/* How long an MTA retries a message (Postfix's maximal_queue_lifetime is 5
 * days): the life of what only a retry reads */
#define IMS_RETRY_WINDOW_MS (7ull * 86400000ull)

/* The life of the idempotency keys: the retry window, not longer than the
 * scan log they name. */
static uint64_t retry_ms_of(const struct ims_conf *c)
{
	uint64_t ret = (uint64_t)c->redis_retention_days * 86400000ull;

	return ret < IMS_RETRY_WINDOW_MS ? ret : IMS_RETRY_WINDOW_MS;
}

static void zadd_trim(struct ims_store_txn *t, const struct ims_scan *s, uint64_t ret_ms,
                      const char *prefix, const char *arg, int trim)
{
	char key[256];

	snprintf(key, sizeof key, "%s%s", prefix, arg);
	ims_store_txn_cmd(t, "ZADD");
	ims_store_txn_str(t, key);
	ims_store_txn_fmt(t, "%llu", (unsigned long long)s->time);
	ims_store_txn_str(t, s->id);
	if (!trim)
		return;
	ims_store_txn_cmd(t, "ZREMRANGEBYSCORE");
	ims_store_txn_str(t, key);
	ims_store_txn_str(t, "-inf");
	ims_store_txn_fmt(t, "(%llu", (unsigned long long)(s->time - ret_ms));
}

static void stats_incr(struct ims_store_txn *t, const char *key, const char *field,
                       const char *value)
{
	ims_store_txn_cmd(t, "HINCRBY");
	ims_store_txn_str(t, key);
	ims_store_txn_fmt(t, "%s%s", field, value);
	ims_store_txn_str(t, "1");
}

/* The admins' dashboard (lib/dashboard.h): the 5-minute series,
 * authentication results, top senders, domains and targeted users. */
static void dashboard_counters(struct ims_store_txn *t, const struct ims_scan *s,
                               uint64_t retention_ms, int trim)
{
	const char *targets[IMS_DASH_MAX_TARGETS], *dkim = "none";
	struct ims_dash_scan d = {
	    .time_ms = s->time,
	    .action = ims_action_name(s->action),
	    .verdict = s->classified ? s->verdict : NULL,
	    .spf = s->auth.spf,
	    .dmarc = s->auth.dmarc,
	    .mail_from = s->mail_from,
	    .targets = targets,
	    .retention_ms = retention_ms,
	};

	/* one DKIM result per message: pass when any signature passed */
	for (int i = 0; i < s->auth.ndkim; i++)
		if (i == 0 || strcmp(s->auth.dkim[i].result, "pass") == 0)
			dkim = s->auth.dkim[i].result;
	d.dkim = dkim;
	/* targeted: local recipients of inbound mail that was not accepted */
	if (!s->outbound && (s->action == IMS_ACTION_TAG || s->action == IMS_ACTION_QUARANTINE ||
	                     s->action == IMS_ACTION_REJECT))
		for (size_t i = 0; i < s->nrcpts && d.ntargets < IMS_DASH_MAX_TARGETS; i++) {
			int dup = 0;

			for (size_t j = 0; j < i; j++)
				dup |= strcasecmp(s->rcpts[i], s->rcpts[j]) == 0;
			if (!dup && ims_scan_addr_is_local(s->conf, s->rcpts[i]))
				targets[d.ntargets++] = s->rcpts[i];
		}
	ims_dashboard_txn_scan(t, &d, trim);
}

static struct ims_store_txn *build_global(const struct ims_scan *s, const struct stored_msg *m)
{
	struct ims_store_txn *t = ims_store_txn_new();
	const char *action = ims_action_name(s->action);
	char bucket[64], daybucket[64], score[32];
	time_t secs = (time_t)(s->time / 1000);
	struct tm tm;
	int trim;

	if (!t)
		return NULL;
	gmtime_r(&secs, &tm);
	strftime(bucket, sizeof bucket, IMS_KEY_STATS_BUCKET_STRFTIME, &tm);
	strftime(daybucket, sizeof daybucket, IMS_KEY_STATS_DAY_STRFTIME, &tm);
	snprintf(score, sizeof score, "%.2f", s->score);

	if (s->idem[0]) {
		/* first: a retry of this message finds it (ims_scan_recall);
		 * only the MTA's retries read it */
		ims_store_txn_cmd(t, "SET");
		ims_store_txn_fmt(t, IMS_KEY_SEEN_PREFIX "%s", s->idem);
		ims_store_txn_str(t, s->id);
		ims_store_txn_str(t, "PX");
		ims_store_txn_fmt(t, "%llu", (unsigned long long)m->retry_ms);
	}
	ims_store_txn_cmd(t, "SET");
	ims_store_txn_fmt(t, IMS_KEY_SCAN_PREFIX "%s", s->id);
	ims_store_txn_str(t, m->json);
	ims_store_txn_str(t, "PX");
	ims_store_txn_fmt(t, "%llu", (unsigned long long)m->retention_ms);
	/* the few fields a mailbox list shows, so a page of 50 need not read
	 * 50 whole scan logs */
	ims_store_txn_cmd(t, "SET");
	ims_store_txn_fmt(t, IMS_KEY_BRIEF_PREFIX "%s", s->id);
	ims_store_txn_str(t, m->brief);
	ims_store_txn_str(t, "PX");
	ims_store_txn_fmt(t, "%llu", (unsigned long long)m->retention_ms);
	trim = randombytes_uniform(IMS_TRIM_EVERY) == 0;
	zadd_trim(t, s, m->retention_ms, IMS_KEY_SCANS, "", trim);
	zadd_trim(t, s, m->retention_ms, IMS_KEY_IDX_ACTION_PREFIX, action, trim);
	if (s->classified)
		zadd_trim(t, s, m->retention_ms, IMS_KEY_IDX_VERDICT_PREFIX, s->verdict, trim);
	for (size_t i = 0; i < s->nhits; i++)
		zadd_trim(t, s, m->retention_ms, IMS_KEY_IDX_SYMBOL_PREFIX, s->hits[i].name, trim);

	/* the same counters three times: the hour's and the day's buckets
	 * (/admin/stats and dashboard ranges, expire) and the running totals
	 * (/metrics, never fall) */
	for (int k = 0; k < 3; k++) {
		const char *key = k == 2 ? IMS_KEY_STATS_TOTAL : k ? daybucket : bucket;

		stats_incr(t, key, "total", "");
		stats_incr(t, key, "action:", action);
		if (s->classified)
			stats_incr(t, key, "verdict:", s->verdict);
		for (size_t i = 0; i < s->nhits; i++)
			stats_incr(t, key, "symbol:", s->hits[i].name);
	}
	ims_store_txn_cmd(t, "PEXPIRE");
	ims_store_txn_str(t, bucket);
	ims_store_txn_fmt(t, "%llu", (unsigned long long)m->retention_ms);
	ims_store_txn_cmd(t, "PEXPIRE");
	ims_store_txn_str(t, daybucket);
	ims_store_txn_fmt(t, "%llu", (unsigned long long)m->retention_ms);
	dashboard_counters(t, s, m->retention_ms, trim);
	if (s->mail_from[0]) {
		ims_store_txn_cmd(t, "ZINCRBY");
		ims_store_txn_str(t, IMS_KEY_TOP_SENDERS);
		ims_store_txn_str(t, "1");
		ims_store_txn_str(t, s->mail_from);
	}
	if (s->action == IMS_ACTION_QUARANTINE) {
		struct ims_quarantine_hold h = {
		    .id = s->id,
		    .time_ms = s->time,
		    .raw = m->raw,
		    .len = m->full_len,
		    .mail_from = s->mail_from,
		    .rcpt_list = m->held_list,
		    .reason = s->reason,
		    .hold_class = s->hold_class ? s->hold_class : "score",
		    .queue_id = s->queue_id,
		    .subject = s->subject,
		    .from = s->from,
		    .score = s->score,
		};
		ims_quarantine_txn_hold(t, s->conf, &h);
	}
	/* link domains a list named: GET /click blocks them from now on */
	for (size_t i = 0; i < s->nlisted; i++) {
		ims_store_txn_cmd(t, "ZADD");
		ims_store_txn_str(t, IMS_KEY_BAD_HOSTS);
		ims_store_txn_fmt(t, "%llu", (unsigned long long)s->time);
		ims_store_txn_str(t, s->listed[i]);
	}
	if (s->nlisted && trim) {
		ims_store_txn_cmd(t, "ZREMRANGEBYSCORE");
		ims_store_txn_str(t, IMS_KEY_BAD_HOSTS);
		ims_store_txn_str(t, "-inf");
		ims_store_txn_fmt(t, "(%llu", (unsigned long long)(s->time - m->retention_ms));
	}
	ims_store_txn_cmd(t, "XADD");
	ims_store_txn_str(t, IMS_KEY_EVENTS);
	ims_store_txn_str(t, "MAXLEN");
	ims_store_txn_str(t, "~");
	ims_store_txn_str(t, IMS_EVENTS_MAXLEN_STR);
	ims_store_txn_str(t, "*");
	txn_kv(t, "type", "scan");
	txn_kv(t, "id", s->id);
	txn_kv(t, "action", action);
	txn_kv(t, "score", score);
	txn_kv(t, "verdict", s->verdict);
	ims_store_txn_str(t, "time");
	ims_store_txn_fmt(t, "%llu", (unsigned long long)s->time);
	txn_kv(t, "direction", s->outbound ? "outbound" : "inbound");
	txn_kv(t, "queue_id", s->queue_id);
	txn_kv(t, "mail_from", s->mail_from);
	txn_kv(t, "client_ip", s->client_ip);
	return t;
}

/* Sends the transactions in order, at most 64 per round trip. */
static ims_status send_all(struct ims_store *st, struct ims_store_txn **txns, size_t n, char *err,
                           size_t errlen)
{
	for (size_t i = 0; i < n; i += 64) {
		size_t k = n - i < 64 ? n - i : 64;
		ims_status rc = ims_store_exec_all(
		    st, (const struct ims_store_txn *const *)txns + i, k, err, errlen);
		if (rc != IMS_OK)
			return rc;
	}
	return IMS_OK;
}

void ims_scan_idem_key(struct ims_scan *s, const char *msgid, const char *body, size_t blen,
                       const char *raw, size_t len)
{
	crypto_generichash_state h;
	unsigned char out[IMS_SCAN_IDEM_BYTES];

	s->idem[0] = '\0';
	if (!s->queue_id || !s->queue_id[0])
		return; /* not from an MTA (nothing retries it) */
	crypto_generichash_init(&h, NULL, 0, sizeof out);
	if (msgid && body) {
		/* Postfix gives a retried transaction a new queue id and a new
		 * Received field: the Message-ID, envelope and body are what
		 * stays the same */
		crypto_generichash_update(&h, (const unsigned char *)"mid", 4);
		crypto_generichash_update(&h, (const unsigned char *)msgid, strlen(msgid) + 1);
		crypto_generichash_update(&h,
		                          (const unsigned char *)(s->mail_from ? s->mail_from : ""),
		                          strlen(s->mail_from ? s->mail_from : "") + 1);
		for (size_t i = 0; i < s->nrcpts; i++)
			crypto_generichash_update(&h, (const unsigned char *)s->rcpts[i],
			                          strlen(s->rcpts[i]) + 1);
		crypto_generichash_update(&h, (const unsigned char *)body, blen);
	} else {
		crypto_generichash_update(&h, (const unsigned char *)"qid", 4);
		crypto_generichash_update(&h, (const unsigned char *)s->queue_id,
		                          strlen(s->queue_id) + 1);
		crypto_generichash_update(&h, (const unsigned char *)raw, len);
	}
	crypto_generichash_final(&h, out, sizeof out);
	sodium_bin2hex(s->idem, sizeof s->idem, out, sizeof out);
}

/* The scan id stored under key, if it is one (a ULID): IMS_OK with *id the
 * caller's, IMS_ENOTFOUND, or the failure. */
static ims_status get_scan_id(struct ims_engine *eng, const char *key, char **id)
{
	struct ims_store_txn *t;
	size_t len = 0;
	ims_status rc;

	*id = NULL;
	if (!(t = ims_store_txn_new()))
		return IMS_ENOMEM;
	ims_store_txn_cmd(t, "GET");
	ims_store_txn_str(t, key);
	rc = ims_store_query(ims_engine_store(eng), t, id, &len);
	ims_store_txn_free(t);
	if (rc != IMS_OK)
		return rc == IMS_ENOTFOUND || rc == IMS_ENOMEM ? rc : IMS_ETEMP;
	/* anything but a ULID is not ours: store anew */
	if (len != IMS_ULID_LEN || strspn(*id, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != len) {
		free(*id);
		*id = NULL;
		return IMS_ENOTFOUND;
	}
	return IMS_OK;
}

/* s takes the scan id prior (and its X-IMS-Scan-Id). */
static ims_status adopt_id(struct ims_scan *s, const char *prior)
{
	char *hv = strdup(prior);

	if (!hv)
		return IMS_ENOMEM;
	memcpy(s->id, prior, IMS_ULID_LEN + 1);
	free(s->hdr_value[4]); /* X-IMS-Scan-Id: the first scan's */
	s->hdr_value[4] = hv;
	return IMS_OK;
}

/* A held message not stored before: the id a failed attempt gave its index
 * entries (IMS_KEY_QUARANTINE_USER_SEEN_FMT in a local recipient's slot), so
 * that this attempt's entries replace them instead of adding to them. */
static ims_status recall_held_entries(struct ims_engine *eng, struct ims_scan *s)
{
	const struct ims_conf *c = ims_engine_conf(eng);
	char key[IMS_QUARANTINE_ADDR_MAX + 2 * IMS_SCAN_IDEM_BYTES + 32], *prior = NULL;
	ims_status rc = IMS_ENOTFOUND;

	/* the first few local recipients (each its own slot, maybe its own
	 * node: any one that took the entry knows the id) */
	for (size_t i = 0, asked = 0; i < s->nrcpts && asked < 4 && rc == IMS_ENOTFOUND; i++) {
		if (!ims_scan_addr_is_local(c, s->rcpts[i]))
			continue;
		asked++;
		snprintf(key, sizeof key, IMS_KEY_QUARANTINE_USER_SEEN_FMT, s->rcpts[i], s->idem);
		rc = get_scan_id(eng, key, &prior);
	}
	if (rc == IMS_OK) {
		ims_log_notice(s->id, "event=store_retry first_scan=%s queue_id=%s", prior,
		               s->queue_id);
		rc = adopt_id(s, prior);
		free(prior);
	}
	return rc == IMS_OK || rc == IMS_ENOTFOUND ? IMS_ENOTFOUND : rc;
}

ims_status ims_scan_recall(struct ims_engine *eng, struct ims_scan *s)
{
	struct ims_store_txn *t;
	char *prior = NULL, key[sizeof IMS_KEY_SEEN_PREFIX + 2 * IMS_SCAN_IDEM_BYTES + 1];
	ims_status rc;

	if (!s->idem[0])
		return IMS_ENOTFOUND;
	snprintf(key, sizeof key, IMS_KEY_SEEN_PREFIX "%s", s->idem);
	rc = get_scan_id(eng, key, &prior);
	if (rc == IMS_ENOTFOUND && s->action == IMS_ACTION_QUARANTINE)
		return recall_held_entries(eng, s);
	if (rc != IMS_OK)
		return rc;
	/* this scan holds the message: only when the first did (its held
	 * record is there) may the MTA drop its copy; else it is held anew */
	if (s->action == IMS_ACTION_QUARANTINE) {
		char *n = NULL;

		if (!(t = ims_store_txn_new())) {
			free(prior);
			return IMS_ENOMEM;
		}
		ims_store_txn_cmd(t, "EXISTS");
		ims_store_txn_fmt(t, IMS_KEY_QMSG_PREFIX "%s", prior);
		rc = ims_store_query(ims_engine_store(eng), t, &n, NULL);
		ims_store_txn_free(t);
		if (rc != IMS_OK || strcmp(n, "1") != 0) {
			free(n);
			free(prior);
			return rc == IMS_OK || rc == IMS_ENOTFOUND ? IMS_ENOTFOUND
			       : rc == IMS_ENOMEM                  ? rc
			                                           : IMS_ETEMP;
		}
		free(n);
	}
	/* the first attempt may have been refused for want of replicas
	 * ([redis] wait_replicas: its blocks ran, WAIT fell short): a write in
	 * its slot, through ims_store_exec, waits for them again before this
	 * attempt is acknowledged */
	if ((t = ims_store_txn_new()) == NULL) {
		free(prior);
		return IMS_ENOMEM;
	}
	ims_store_txn_cmd(t, "PEXPIRE");
	ims_store_txn_str(t, key);
	ims_store_txn_fmt(t, "%llu", (unsigned long long)retry_ms_of(ims_engine_conf(eng)));
	{
		char err[256];
		rc = ims_store_exec(ims_engine_store(eng), t, err, sizeof err);
		ims_store_txn_free(t);
		if (rc != IMS_OK) {
			ims_log_warn(s->id, "event=store_failed status=\"%s\" error=\"%s\"",
			             ims_strstatus(rc), err);
			free(prior);
			return rc == IMS_ENOMEM ? rc : IMS_ETEMP;
		}
	}
	ims_log_notice(s->id, "event=store_duplicate first_scan=%s queue_id=%s", prior,
	               s->queue_id);
	rc = adopt_id(s, prior);
	free(prior);
	return rc;
}

ims_status ims_scan_store(struct ims_engine *eng, const struct ims_scan *s, const char *raw,
                          size_t len, char *err, size_t errlen)
{
	const struct ims_conf *c = ims_engine_conf(eng);
	struct ims_store *st = ims_engine_store(eng);
	struct stored_msg m = {0};
	struct ims_store_txn **txns = NULL;
	char *rewritten = NULL, *json = NULL, *brief = NULL, errbuf[256] = "";
	size_t rlen = 0, n = 0, ntx = 0, held_size = 0;
	ims_status rc = IMS_ENOMEM;

	if (!err) {
		err = errbuf;
		errlen = sizeof errbuf;
	}
	err[0] = '\0';
	/* one per recipient's quarantine index, per local user's correspondents
	 * (lib/correspondents.h: inbound, each recipient; outbound, the sender
	 * and the name it sends under), the global records */
	txns = calloc(2 * s->nrcpts + 4, sizeof *txns);
	json = ims_scan_json(s);
	brief = ims_scan_brief_json(s);
	if (!txns || !json || !brief)
		goto out;
	m.json = json;
	m.brief = brief;
	m.retention_ms = (uint64_t)c->redis_retention_days * 86400000ull;
	m.retry_ms = retry_ms_of(c);
	for (size_t i = 0; i < s->nrcpts; i++) {
		int k = snprintf(m.rcpt_list + n, sizeof m.rcpt_list - n, "%s%s", i ? "," : "",
		                 s->rcpts[i]);
		if (k < 0 || (size_t)k >= sizeof m.rcpt_list - n)
			break;
		n += (size_t)k;
	}
	/* Delivered mail lives in Dovecot, not here: only a held message keeps
	 * its body (one copy, in the quarantine). */
	if (s->action == IMS_ACTION_QUARANTINE) {
		rc = ims_scan_rewrite(s, raw, len, &rewritten, &rlen);
		if (rc != IMS_OK)
			goto out;
		rc = IMS_ENOMEM;
		m.raw = rewritten;
		m.full_len = rlen;
		m.len = rlen; /* the held copy: no limit but the quarantine's own */
		rc = ims_quarantine_room(st, c, m.full_len);
		if (rc != IMS_OK) {
			snprintf(err, errlen, "%s",
			         rc == IMS_ELIMIT ? "quarantine full ([quarantine] max_bytes)"
			                          : "redis unreachable");
			goto out;
		}
		rc = IMS_ENOMEM;
		{
			size_t need = 1;
			for (size_t i = 0; i < s->nrcpts; i++)
				need += strlen(s->rcpts[i]) + 1;
			if (!(m.held_list = calloc(1, need)))
				goto out;
			held_size = need;
		}
		for (size_t i = 0, hn = 0; i < s->nrcpts; i++) {
			int dup = 0;
			for (size_t j = 0; j < i; j++)
				dup |= strcmp(s->rcpts[i], s->rcpts[j]) == 0;
			if (dup || !ims_scan_addr_is_local(c, s->rcpts[i]))
				continue;
			/* the user's index only: the body is in the global record */
			int k = snprintf(m.held_list + hn, held_size - hn, "%s%s", hn ? "," : "",
			                 s->rcpts[i]);
			if (k < 0 || (size_t)k >= held_size - hn)
				goto out; /* cannot happen: sized above */
			hn += (size_t)k;
			if (!(txns[ntx++] =
			          ims_quarantine_txn_user(c, s->rcpts[i], s->id, s->time)))
				goto out;
			/* with the index entry, in its slot: a retry after a
			 * global transaction that failed finds this id and
			 * reuses it (ims_scan_recall), one entry per attempt
			 * no more */
			if (s->idem[0]) {
				ims_store_txn_cmd(txns[ntx - 1], "SET");
				ims_store_txn_fmt(txns[ntx - 1], IMS_KEY_QUARANTINE_USER_SEEN_FMT,
				                  s->rcpts[i], s->idem);
				ims_store_txn_str(txns[ntx - 1], s->id);
				ims_store_txn_str(txns[ntx - 1], "PX");
				ims_store_txn_fmt(txns[ntx - 1], "%llu",
				                  (unsigned long long)m.retry_ms);
			}
		}
	}
	/* whom each user corresponds with (lib/correspondents.h): delivered
	 * mail only, one transaction per user (one hash slot each) */
	if (s->action == IMS_ACTION_ACCEPT || s->action == IMS_ACTION_TAG) {
		struct ims_store_txn *t;

		/* inbound: accepted mail only (tagged mail is suspect: its sender
		 * must not become "known") */
		if (!s->outbound && s->action == IMS_ACTION_ACCEPT && s->bec_from[0] &&
		    !ims_scan_addr_is_local(c, s->bec_from)) {
			const char *peer = s->bec_from;

			for (size_t i = 0; i < s->nrcpts; i++) {
				int dup = 0;
				for (size_t j = 0; j < i; j++)
					dup |= strcasecmp(s->rcpts[i], s->rcpts[j]) == 0;
				if (dup || !ims_scan_addr_is_local(c, s->rcpts[i]))
					continue;
				t = ims_correspondents_txn(s->rcpts[i], &peer, 1, s->time,
				                           c->bec_correspondents_max,
				                           c->bec_correspondents_days);
				if (t)
					txns[ntx++] = t;
			}
		} else if (s->outbound && ims_scan_addr_is_local(c, s->auth_user)) {
			t = ims_correspondents_txn(s->auth_user, (const char *const *)s->rcpts,
			                           s->nrcpts, s->time, c->bec_correspondents_max,
			                           c->bec_correspondents_days);
			if (t)
				txns[ntx++] = t;
			/* the name the user sends under, when From is the login's own */
			if (s->bec_name_key[0] && strcasecmp(s->bec_from, s->auth_user) == 0 &&
			    (t = ims_bec_name_txn(s->bec_name_key, s->auth_user)))
				txns[ntx++] = t;
		}
	}
	/* global last: mailboxes are written before (or with) their index */
	if (!(txns[ntx++] = build_global(s, &m)))
		goto out;
	rc = send_all(st, txns, ntx, err, errlen);
out:
	if (rc != IMS_OK)
		ims_log_warn(s->id, "event=store_failed status=\"%s\" error=\"%s\"",
		             ims_strstatus(rc), err);
	for (size_t i = 0; txns && i < ntx; i++)
		ims_store_txn_free(txns[i]);
	free(txns);
	free(rewritten);
	free(json);
	free(brief);
	free(m.held_list);
	return rc;
}
