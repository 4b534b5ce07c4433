#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "frametok.h"

struct ticket {
	char tok[IMS_FRAMETOK_LEN + 1]; /* "" = free */
	char user[IMS_FRAMETOK_USER + 1];
	char msg[IMS_FRAMETOK_MSG + 1];
	uint64_t expires;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ticket tickets[IMS_FRAMETOK_MAX];

ims_status ims_frametok_issue(const char *user, const char *msg, uint64_t now,
                              char out[IMS_FRAMETOK_LEN + 1])
{
	unsigned char raw[32];
	struct ticket *t = NULL;

	out[0] = '\0';
	if (strlen(user) > IMS_FRAMETOK_USER || strlen(msg) > IMS_FRAMETOK_MSG)
		return IMS_ELIMIT;
	if (sodium_init() < 0)
		return IMS_ENOMEM;
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, IMS_FRAMETOK_LEN + 1, raw, sizeof raw,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < IMS_FRAMETOK_MAX && !t; i++)
		if (!tickets[i].tok[0] || tickets[i].expires <= now)
			t = &tickets[i];
	if (t) {
		memcpy(t->tok, out, IMS_FRAMETOK_LEN + 1);
		snprintf(t->user, sizeof t->user, "%s", user);
		snprintf(t->msg, sizeof t->msg, "%s", msg);
		t->expires = now + IMS_FRAMETOK_TTL_S;
	}
	pthread_mutex_unlock(&lock);
	if (!t) {
		out[0] = '\0';
		return IMS_ELIMIT;
	}
	return IMS_OK;
}

ims_status ims_frametok_take(const char *tok, uint64_t now, char user[IMS_FRAMETOK_USER + 1],
                             char msg[IMS_FRAMETOK_MSG + 1])
{
	ims_status rc = IMS_ENOTFOUND;

	user[0] = msg[0] = '\0';
	if (strlen(tok) != IMS_FRAMETOK_LEN)
		return IMS_ENOTFOUND;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < IMS_FRAMETOK_MAX; i++) {
		struct ticket *t = &tickets[i];

		if (!t->tok[0] || sodium_memcmp(t->tok, tok, IMS_FRAMETOK_LEN) != 0)
			continue;
		if (t->expires > now) {
			snprintf(user, IMS_FRAMETOK_USER + 1, "%s", t->user);
			snprintf(msg, IMS_FRAMETOK_MSG + 1, "%s", t->msg);
			rc = IMS_OK;
		}
		sodium_memzero(t, sizeof *t);
		break;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}
