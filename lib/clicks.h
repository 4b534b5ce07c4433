/* Links at click time, the click side (ims-webapi's GET /click): what a
 * link's target is judged to be when a user clicks it, and the record of
 * the click.
 *
 * The check uses what the scan used, as it is now: the [intel] block lists
 * (the URL, its host and every parent domain, an IP host) and the [dnsbl]
 * domain lists (URIBL/SURBL) of the host's registrable domain, through the
 * engine's reputation checks (lib/reputation.h), and the link domains that
 * scans found on those lists (IMS_KEY_BAD_HOSTS): a domain a later
 * message was caught with is blocked even where ims-webapi has no DNS
 * list, and after the list has dropped it.
 *
 * Redis (docs/redis-schema.md, "Clicks"):
 *   ims:{global}:events                 stream: one "click" entry per click
 *   ims:{global}:clicks:scan:ID         list: the clicks on links of scan ID, newest first
 *   ims:{global}:clicks:user:ADDR       list: ADDR's clicks, newest first
 *   ims:{global}:links:badhosts         sorted set: link domain -> ms a scan last found it
 *                                       on a block list (lib/links.h), trimmed to the
 *                                       retention
 * Each list keeps IMS_CLICKS_KEEP entries (JSON objects) and expires
 * [redis] retention_days after its last click. */
#ifndef IMS_CLICKS_H
#define IMS_CLICKS_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "status.h"

struct ims_store;

#define IMS_CLICKS_KEEP    1000
#define IMS_CLICKS_KEY_MAX 400

enum ims_click_verdict { IMS_CLICK_CLEAN = 0, IMS_CLICK_WARN, IMS_CLICK_BLOCK };

struct ims_click_check {
	enum ims_click_verdict verdict;
	char reason[300]; /* "" when clean: what made it a warning or a block */
};

/* "clean", "warn", "block". */
const char *ims_click_verdict_name(enum ims_click_verdict v);

/* Judges url now.  rc (may be NULL: no later-scan lookup) is borrowed.
 * Never fails: a list that cannot be asked makes a warning, not a block. */
void ims_click_check_url(struct ims_engine *eng, struct ims_store *st, const char *url,
                         struct ims_click_check *out);

struct ims_click_event {
	const char *scan_id, *user, *url, *verdict, *reason, *ip;
	uint64_t time_ms;
};

/* Records a click: the stream entry and both lists, one MULTI/EXEC.
 * retention_days bounds the lists' life.  IMS_ETEMP when Redis failed,
 * IMS_EINVAL when a key would be longer than IMS_CLICKS_KEY_MAX. */
ims_status ims_click_record(struct ims_store *st, const struct ims_click_event *ev,
                            int retention_days);

/* The clicks of a scan (by_user 0) or of a user (by_user 1), newest
 * first, at most limit: *out is a malloc'd array of n JSON texts (each
 * malloc'd; ims_clicks_free).  IMS_ETEMP when Redis failed. */
ims_status ims_clicks_list(struct ims_store *st, int by_user, const char *who, size_t limit,
                           char ***out, size_t *n);
void ims_clicks_free(char **v, size_t n);

/* Remembers in s the link domains (a link's host or one of its parent
 * domains) that the reputation symbols s got from index first_hit on name
 * in their detail ("bad.example listed in dbl.test", "list=feed
 * entry=evil.example (link)"): the scan store keeps them
 * (IMS_KEY_BAD_HOSTS) so that a click on them later is
 * blocked even once the list has dropped them.  At most
 * IMS_SCAN_MAX_LISTED. */
struct ims_link;
struct ims_scan;
void ims_clicks_note_listed(struct ims_scan *s, const struct ims_link *links, size_t nlinks,
                            size_t first_hit);

#endif
