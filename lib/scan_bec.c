/* The impersonation stage of a scan (lib/bec.h, lib/correspondents.h):
 * what Redis knows about the recipients' correspondents and the names
 * local users send under, then the pure checks. */
#include "config.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bec.h"
#include "conf.h"
#include "correspondents.h"
#include "log.h"
#include "scan_internal.h"
#include "store.h"

#define BEC_MAX_RCPTS   4   /* local recipients looked up per message */
#define BEC_MAX_DOMAINS 200 /* correspondent domains compared per recipient */

/* The first mailbox of a raw address field: name (may be "") and address. */
static int first_mailbox(const char *raw, char *name, size_t namelen, char *addr, size_t addrlen)
{
	InternetAddressList *list;
	InternetAddress *ia;
	const char *n, *a;
	int rc = -1;

	name[0] = addr[0] = '\0';
	if (!raw || !(list = internet_address_list_parse(NULL, raw)))
		return -1;
	for (int i = 0; i < internet_address_list_length(list); i++) {
		ia = internet_address_list_get_address(list, i);
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		n = internet_address_get_name(ia);
		a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		if (!a || !strchr(a, '@') || strlen(a) > IMS_CORRESPONDENTS_ADDR_MAX)
			continue;
		snprintf(name, namelen, "%s", n ? n : "");
		snprintf(addr, addrlen, "%s", a);
		for (char *p = addr; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		rc = 0;
		break;
	}
	g_object_unref(list);
	return rc;
}

static void emit(void *arg, const char *symbol, const char *detail)
{
	struct ims_scan *s = arg;

	ims_scan_add_symbol(s, symbol, ims_conf_score(s->conf, symbol), detail);
}

/* The local recipients, de-duplicated, at most BEC_MAX_RCPTS. */
static size_t local_rcpts(const struct ims_scan *s, const char **out)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nrcpts && n < BEC_MAX_RCPTS; i++) {
		int dup = 0;

		for (size_t j = 0; j < n; j++)
			dup |= strcasecmp(out[j], s->rcpts[i]) == 0;
		if (!dup && ims_scan_addr_is_local(s->conf, s->rcpts[i]))
			out[n++] = s->rcpts[i];
	}
	return n;
}

void ims_scan_bec(struct ims_scan *s, struct ims_store *st, const char *from_raw,
                  const char *reply_to_raw, int list_mail)
{
	const struct ims_conf *c = s->conf;
	char name[IMS_BEC_MAX_NAME + 1], reply_name[IMS_BEC_MAX_NAME + 1];
	char reply[IMS_CORRESPONDENTS_ADDR_MAX + 1], owner[IMS_CORRESPONDENTS_ADDR_MAX + 1] = "";
	const char *rcpts[BEC_MAX_RCPTS];
	char **domains[BEC_MAX_RCPTS] = {NULL};
	char *merged[BEC_MAX_RCPTS * BEC_MAX_DOMAINS + 1];
	size_t nr, nm = 0;
	ims_status rc;

	s->bec_from[0] = s->bec_name_key[0] = '\0';
	if (first_mailbox(from_raw, name, sizeof name, s->bec_from, sizeof s->bec_from) != 0)
		return;
	if (ims_bec_name_key(name, s->bec_name_key, sizeof s->bec_name_key) != 0)
		s->bec_name_key[0] = '\0';
	if (s->outbound || !c->bec_enabled || ims_scan_addr_is_local(c, s->bec_from))
		return; /* outbound: the store learns from it (scan_store.c) */
	if (first_mailbox(reply_to_raw, reply_name, sizeof reply_name, reply, sizeof reply) != 0)
		reply[0] = '\0';

	nr = local_rcpts(s, rcpts);
	if (st && s->bec_name_key[0]) {
		rc = ims_bec_name_owner(st, s->bec_name_key, owner, sizeof owner);
		if (rc != IMS_OK)
			ims_log_warn(s->id, "event=bec_lookup_failed what=names status=\"%s\"",
			             ims_strstatus(rc));
	}
	for (size_t i = 0; st && i < nr; i++) {
		rc = ims_correspondents_domains(st, rcpts[i], BEC_MAX_DOMAINS, &domains[i]);
		if (rc != IMS_OK) {
			ims_log_warn(s->id,
			             "event=bec_lookup_failed what=corrdomains status=\"%s\"",
			             ims_strstatus(rc));
			break;
		}
		for (char **d = domains[i]; d && *d; d++)
			merged[nm++] = *d;
	}
	merged[nm] = NULL;
	{
		struct ims_bec_input in = {
		    .from_addr = s->bec_from,
		    .from_name = name,
		    .reply_to = reply[0] ? reply : NULL,
		    .local_domains = (const char *const *)c->milter_local_domains,
		    .protected_domains = (const char *const *)c->bec_protected_domains,
		    .correspondent_domains = (const char *const *)merged,
		    .freemail_domains = (const char *const *)c->bec_freemail_domains,
		    .protected_names = (const char *const *)c->bec_protected_names,
		    .learned_name_owner = owner[0] ? owner : NULL,
		    .list_mail = list_mail,
		    .max_edit_distance = c->bec_max_edit_distance,
		    .min_label_length = c->bec_min_label_length,
		};

		ims_bec_run(&in, emit, s);
	}
	if (st && c->bec_first_time_sender) {
		char detail[512];
		size_t o = 0;
		int known = 0;

		detail[0] = '\0';
		for (size_t i = 0; i < nr; i++) {
			int seen = 0;

			if (!domains[i] || !domains[i][0])
				continue; /* nothing known about this user yet: not "first" */
			rc = ims_correspondents_seen(st, rcpts[i], s->bec_from, &seen);
			if (rc != IMS_OK) {
				ims_log_warn(
				    s->id,
				    "event=bec_lookup_failed what=correspondents status=\"%s\"",
				    ims_strstatus(rc));
				known = 1; /* neutral when Redis cannot say (and the
				            * domain lists still freed below) */
				break;
			}
			known |= seen == 1;
			if (seen == 0 && o < sizeof detail) {
				int k = snprintf(detail + o, sizeof detail - o, "%s%s",
				                 o ? "," : "", rcpts[i]);

				o += k > 0 ? (size_t)k : 0;
			}
		}
		if (o > 0 && !known) {
			char d2[sizeof detail + IMS_CORRESPONDENTS_ADDR_MAX + 16];

			snprintf(d2, sizeof d2, "%s new to %s", s->bec_from, detail);
			emit(s, "BEC_FIRST_TIME_SENDER", d2);
		}
	}
	for (size_t i = 0; i < nr; i++)
		ims_correspondents_free_list(domains[i]);
}
