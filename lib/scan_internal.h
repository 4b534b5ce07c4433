/* Private to lib/scan*.c: the layout of a scan result. */
#ifndef IMS_SCAN_INTERNAL_H
#define IMS_SCAN_INTERNAL_H

#include <stdint.h>

#include "auth.h"
#include "scan.h"
#include "ulid.h"

#define IMS_SCAN_NHEADERS   5
#define IMS_SCAN_MAX_LISTED 8 /* link domains a reputation list named (lib/links.h) */
#define IMS_SCAN_IDEM_BYTES 20
/* the header fields kept in the scan log (the console's scan detail):
 * at most this many fields and bytes of them, as received, unfolded */
#define IMS_SCAN_LOG_HEADERS       100
#define IMS_SCAN_LOG_HEADERS_BYTES 8192

struct ims_scan_hit {
	char name[40];
	double weight;
	char detail[160];
};

struct ims_scan {
	struct ims_conf *conf; /* a reference of its own */
	char id[IMS_ULID_LEN + 1];
	char trace_id[64];
	uint64_t time;
	char *client_ip, *client_name, *helo, *auth_user, *mail_from, *queue_id;
	char **rcpts;
	size_t nrcpts;
	int outbound;
	int sender_owned; /* outbound: From and envelope sender are the login's (DKIM may sign) */
	char *from, *to, *subject, *date; /* decoded, for the stored summary */
	size_t size;

	struct ims_scan_hit hits[IMS_SCAN_MAX_SYMBOLS];
	size_t nhits;
	double score;
	enum ims_action action;
	char reason[384];
	const char *hold_class; /* quarantine: "score" or "dmarc" */

	int classified;
	char verdict[8];
	double probability, svm_score;
	char model_version[96];
	struct ims_auth_result auth;

	/* set by checks that decide whatever the score (lib/scan_malware.c):
	 * decide() raises the action to at least floor_action */
	enum ims_action floor_action;
	char floor_reason[200];
	const char *floor_class; /* quarantine: the hold class */
	char av_error[160];      /* clamd failed and [antivirus] on_error = tempfail */
	int av_ran;              /* the message was sent to clamd */

	long total_us, parse_us, heuristics_us, classify_us, antivirus_us, attachments_us;
	long reputation_us; /* DNS lists and intel lists (DNS-bound) */
	char *hdr_value[IMS_SCAN_NHEADERS];
	/* the first From mailbox (lower case) and its display name's key
	 * (lib/bec.h), for the correspondents the store records */
	char bec_from[321];
	char bec_name_key[1024];
	/* the scan's parse saw a URL in the decoded body text or a link (or could
	 * not parse): what lib/links.c asks before rewriting */
	int maybe_links;
	char listed[IMS_SCAN_MAX_LISTED][254]; /* link domains listed, for GET /click */
	size_t nlisted;
	char *dkim_sig;
	/* the message's header fields for the scan log: "Name\0value\0" each,
	 * nlog_hdrs of them in log_hdrs (malloc'd); log_hdrs_cut when the
	 * bounds above cut the list short */
	char *log_hdrs;
	size_t nlog_hdrs;
	int log_hdrs_cut;
	/* the idempotency key of a message from an MTA (lib/scan_store.c),
	 * hex; empty: none */
	char idem[2 * IMS_SCAN_IDEM_BYTES + 1];
};

void ims_scan_add_symbol(struct ims_scan *s, const char *name, double weight, const char *detail);
int ims_scan_addr_is_local(const struct ims_conf *c, const char *addr);
/* Antivirus (clamd) and attachment checks on the parsed message
 * (lib/scan_malware.c): symbols, floor_action, av_error, timings.
 * IMS_ENOMEM only. */
struct ims_parsed;
ims_status ims_scan_malware(struct ims_scan *s, const char *raw, size_t len,
                            const struct ims_parsed *parsed);
/* The impersonation stage (lib/scan_bec.c): fills bec_from and
 * bec_name_key; on inbound mail runs lib/bec.h's checks with what st knows
 * (st may be NULL: no first-time sender, no learned names). */
struct ims_store;
void ims_scan_bec(struct ims_scan *s, struct ims_store *st, const char *from_raw,
                  const char *reply_to_raw, int list_mail);
/* Sets s->idem for a message from an MTA (s->queue_id set): a hash of
 * the Message-ID field msgid (as received, NULL: none), the envelope and
 * the body when there is a Message-ID, else of the queue id and the whole
 * raw message (lib/scan_store.c). */
void ims_scan_idem_key(struct ims_scan *s, const char *msgid, const char *body, size_t blen,
                       const char *raw, size_t len);
/* Fills hdr_value[] from the decided scan (lib/scan_output.c). */
ims_status ims_scan_make_headers(struct ims_scan *s);

#endif
