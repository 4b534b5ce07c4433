/* `ims train --feedback`: users' spam/ham reports from Redis as training
 * data (cli/feedback.c). */
#ifndef IMS_CLI_FEEDBACK_H
#define IMS_CLI_FEEDBACK_H

#include <stddef.h>

#include "conf.h"
#include "status.h"
#include "train.h"

struct ims_feedback_counts {
	size_t entries; /* stream entries read */
	size_t ham, spam; /* distinct messages added, by label */
};

/* Adds every reported message (newest label per user and message) to ds,
 * featurised with hash_bits.  IMS_ETEMP when Redis ([redis] of conf) is
 * unreachable; err says why. */
ims_status ims_feedback_load(const struct ims_conf *conf, unsigned hash_bits,
			     struct ims_dataset *ds, struct ims_feedback_counts *counts, char *err,
			     size_t errlen);

#endif
