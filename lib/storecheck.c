#include "config.h"

#include <stdio.h>

#include "store.h"
#include "storecheck.h"

ims_status ims_storecheck(struct ims_store *st, char *err, size_t errlen)
{
	const char *argv[] = {"PING"};
	struct redisReply *rep = NULL;
	ims_status rc;

	if (errlen)
		err[0] = '\0';
	rc = ims_store_cmdv(st, &rep, 1, argv, NULL, err, errlen);
	ims_store_reply_free(rep);
	if (rc != IMS_OK && errlen && !err[0])
		snprintf(err, errlen, "redis: %s", ims_strstatus(rc));
	return rc;
}
