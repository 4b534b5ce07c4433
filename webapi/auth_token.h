/* Access tokens: JWTs signed with HS256 (libjwt 1.x).
 *
 * Claims: sub (the address), role ("user"/"admin"), fam (the refresh-token
 * family the session belongs to, so logout and reuse detection end the
 * access tokens too), typ ("access"), iat, exp, jti.  Verification accepts
 * HS256 only: alg "none", any other algorithm, a wrong signature, a
 * missing or past exp, or a malformed claim is IMS_EPERM. */
#ifndef IMS_AUTH_TOKEN_H
#define IMS_AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "users.h"

#define IMS_TOKEN_MAX        4096 /* longest token accepted */
#define IMS_TOKEN_SECRET_MIN 32   /* bytes */
#define IMS_TOKEN_FAMILY_LEN 32   /* hex characters */

struct ims_token_claims {
	char sub[IMS_USERS_ADDR_MAX + 1];
	enum ims_role role;
	char fam[IMS_TOKEN_FAMILY_LEN + 1];
	int64_t iat; /* seconds */
	int64_t exp; /* seconds */
};

struct ims_token_key;

/* Reads the secret from path (trailing white space dropped; at least
 * IMS_TOKEN_SECRET_MIN bytes, at most 4096).  The caller owns *out
 * (ims_token_key_free).  Errors name the file in err. */
ims_status ims_token_key_load(const char *path, struct ims_token_key **out, char *err,
                              size_t errlen);

/* A key from len bytes of secret (copied). */
ims_status ims_token_key_new(const void *secret, size_t len, struct ims_token_key **out);
void ims_token_key_free(struct ims_token_key *k);

/* Signs claims c (iat/exp as given).  *out is the caller's (free()). */
ims_status ims_token_issue(const struct ims_token_key *k, const struct ims_token_claims *c,
                           char **out);

/* Verifies token at time now (seconds) and fills *c.  IMS_EPERM for any
 * token that must not be accepted; IMS_ENOMEM on allocation failure. */
ims_status ims_token_verify(const struct ims_token_key *k, const char *token, int64_t now,
                            struct ims_token_claims *c);

#endif
