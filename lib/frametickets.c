#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <sodium.h>

#include "frametickets.h"
#include "rkeys.h"

#define KEY_MAX (sizeof IMS_KEY_FRAME_FMT + IMS_FRAMETOK_LEN)

ims_status ims_frametickets_issue(struct ims_store *st, const char *user, const char *msg,
                                  char out[IMS_FRAMETOK_LEN + 1])
{
	char key[KEY_MAX], val[IMS_FRAMETOK_USER + IMS_FRAMETOK_MSG + 2], ttl[16], err[256];
	unsigned char raw[32];
	size_t ul = strlen(user), ml = strlen(msg);
	const char *argv[6] = {"SET", key, val, "NX", "EX", ttl};
	struct redisReply *r = NULL;
	ims_status rc;

	out[0] = '\0';
	if (!ul || ul > IMS_FRAMETOK_USER || !ml || ml > IMS_FRAMETOK_MSG ||
	    strpbrk(user, "\r\n") || strpbrk(msg, "\r\n"))
		return IMS_EINVAL;
	if (sodium_init() < 0)
		return IMS_ENOMEM;
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, IMS_FRAMETOK_LEN + 1, raw, sizeof raw,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (ims_key(key, sizeof key, IMS_KEY_FRAME_FMT, out) != IMS_OK)
		return IMS_EINVAL;
	snprintf(val, sizeof val, "%s\n%s", user, msg);
	snprintf(ttl, sizeof ttl, "%d", IMS_FRAMETOK_TTL_S);
	rc = ims_store_cmdv(st, &r, 6, argv, NULL, err, sizeof err);
	/* NX on 256 random bits: a nil (taken) reply does not happen */
	if (rc == IMS_OK && r->type != REDIS_REPLY_STATUS)
		rc = IMS_ETEMP;
	ims_store_reply_free(r);
	if (rc != IMS_OK)
		out[0] = '\0';
	return rc;
}

ims_status ims_frametickets_take(struct ims_store *st, const char *tok,
                                 char user[IMS_FRAMETOK_USER + 1], char msg[IMS_FRAMETOK_MSG + 1])
{
	char key[KEY_MAX], err[256];
	const char *argv[2] = {"GETDEL", key};
	struct redisReply *r = NULL;
	const char *nl;
	ims_status rc;

	user[0] = msg[0] = '\0';
	/* a ticket is base64url of a fixed length: nothing else reaches Redis */
	if (strlen(tok) != IMS_FRAMETOK_LEN ||
	    strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
	        IMS_FRAMETOK_LEN)
		return IMS_ENOTFOUND;
	if (ims_key(key, sizeof key, IMS_KEY_FRAME_FMT, tok) != IMS_OK)
		return IMS_ENOTFOUND;
	rc = ims_store_cmdv(st, &r, 2, argv, NULL, err, sizeof err);
	if (rc != IMS_OK)
		return rc;
	rc = IMS_ENOTFOUND;
	if (r->type == REDIS_REPLY_STRING && (nl = memchr(r->str, '\n', r->len)) &&
	    (size_t)(nl - r->str) <= IMS_FRAMETOK_USER && r->len - (size_t)(nl - r->str) - 1 > 0 &&
	    r->len - (size_t)(nl - r->str) - 1 <= IMS_FRAMETOK_MSG) {
		memcpy(user, r->str, (size_t)(nl - r->str));
		user[nl - r->str] = '\0';
		memcpy(msg, nl + 1, r->len - (size_t)(nl - r->str) - 1);
		msg[r->len - (size_t)(nl - r->str) - 1] = '\0';
		rc = user[0] ? IMS_OK : IMS_ENOTFOUND;
	}
	ims_store_reply_free(r);
	return rc;
}
