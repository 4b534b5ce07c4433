/* Users' spam/ham feedback as training data for `ims train --feedback` and
 * `ims retrain` (cli/train_feedback.c), read from the store of
 * lib/feedback.h. */
#ifndef IMS_CLI_TRAIN_FEEDBACK_H
#define IMS_CLI_TRAIN_FEEDBACK_H

#include <stddef.h>

#include "conf.h"
#include "status.h"
#include "train.h"

/* One share of the feedback in IMS_FB_HOLDOUT_MOD is held out by `ims
 * retrain` for evaluation: the messages whose key hashes to 0 modulo it
 * (by message, so two users' reports of one message fall on one side). */
#define IMS_FB_HOLDOUT_MOD 5

struct ims_fb_report {
	char *raw;
	size_t len;
	int label;   /* 1 spam, -1 ham */
	int holdout; /* 1 when in the held-out share */
};

struct ims_fb_set {
	struct ims_fb_report *r;
	size_t n;
	size_t entries; /* stream entries read */
};

struct ims_cli;

/* Reads every report from the store of cli (ims_cli_store), newest label
 * per user and message.  IMS_ETEMP when Redis is unreachable (err says
 * why), IMS_ENOMEM.  Free with ims_fb_set_free. */
ims_status ims_fb_collect(struct ims_cli *cli, struct ims_fb_set *out, char *err, size_t errlen);
void ims_fb_set_free(struct ims_fb_set *s);

/* Featurises the reports with hash_bits into ds: all of them (which < 0),
 * those not held out (0) or only the held-out ones (1).  Messages the
 * parser refuses (over a limit) are skipped.  *ham and *spam count what
 * was added. */
ims_status ims_fb_add(const struct ims_fb_set *s, unsigned hash_bits, int which,
                      struct ims_dataset *ds, size_t *ham, size_t *spam, char *err, size_t errlen);

#endif
