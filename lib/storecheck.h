/* Whether Redis answers, with the layer's words when it does not: for the
 * programs that check their store once before working (the ims command)
 * and for GET /health. */
#ifndef IMS_STORECHECK_H
#define IMS_STORECHECK_H

#include <stddef.h>

#include "status.h"

struct ims_store;

/* Runs PING through st.  IMS_OK when Redis answered; else the store's
 * status (IMS_ETEMP unreachable, IMS_EPERM refused our credentials) and
 * why in err (which settings to look at). */
ims_status ims_storecheck(struct ims_store *st, char *err, size_t errlen);

#endif
