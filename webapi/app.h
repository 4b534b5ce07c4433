/* The state ims-webapi shares between its threads: config, signing key,
 * counters.  Set up once in main() and read-only afterwards, except for
 * the atomic counters. */
#ifndef IMS_WEB_APP_H
#define IMS_WEB_APP_H

#include <stdbool.h>

#include "auth_token.h"
#include "conf.h"
#include "dovecot.h"
#include "imap.h"
#include "metrics.h"

struct ims_store;

struct ims_web {
	const struct ims_conf *conf;
	struct ims_token_key *key;
	struct ims_metrics *metrics;
	char *submission_password; /* from [webapi] submission_password_file, or NULL */
	char *metrics_token;       /* from [webapi] metrics_token_file, or NULL: open */
	struct ims_dove *dove;     /* the mailbox of record ([dovecot]), or NULL */
	struct ims_imap *imap;     /* pooled IMAP for folder pages ([dovecot] imap), or NULL */
	struct ims_store *store;   /* Redis (lib/store.h), shared by every thread */
	volatile int draining;     /* set on SIGTERM: /health answers 503 */
	int inflight;              /* requests being handled (atomic) */
};

#endif
