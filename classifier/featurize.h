/* Message -> sparse feature vector for the linear SVM.
 *
 * Tokens (words, URL hosts, domains, e-mail domains, number shapes, header
 * facts; see docs/classifier.md "Features") are hashed into 2^hash_bits
 * slots (1-based indices, as libsvm wants), weighted 1 + ln(tf), and the
 * vector is L2-normalised.  Indices are sorted and unique.
 *
 * Bump IMS_FEATURE_VERSION whenever a change would give another vector for
 * the same message: a model records the version it was trained with and
 * refuses to load under another one. */
#ifndef IMS_FEATURIZE_H
#define IMS_FEATURIZE_H

#include <stddef.h>
#include <stdint.h>

#include "message.h"
#include "status.h"

#define IMS_FEATURE_VERSION     4 /* 4: PSL registrable domains, ims_url_host hosts */
#define IMS_HASH_BITS_DEFAULT   20
#define IMS_HASH_BITS_MIN       10
#define IMS_HASH_BITS_MAX       24
#define IMS_FEATURES_MAX_TOKENS 100000 /* tokens hashed per message */
#define IMS_TOKEN_MAX           40     /* longer words become one "long word" token */

struct ims_feature_opts {
	unsigned hash_bits; /* IMS_HASH_BITS_MIN..MAX */
};

/* A sparse vector: n entries, idx strictly increasing, 1..2^hash_bits. */
struct ims_fvec {
	size_t n;
	uint32_t *idx;
	double *val;
};

/* Fills *out (whose arrays the caller frees with ims_fvec_free()).
 * IMS_EINVAL for bad opts, IMS_ENOMEM. */
ims_status ims_features_extract(const struct ims_parsed *p, const struct ims_feature_opts *opts,
                                struct ims_fvec *out);

void ims_fvec_free(struct ims_fvec *v);

/* The tokenizer alone, for tests and debugging: calls fn once per token,
 * already prefixed ("W:free", "U:example.com", "N#5"...), tok NUL-terminated
 * and valid only during the call. */
typedef void (*ims_token_fn)(void *ctx, const char *tok, size_t len);
void ims_tokenize(const char *text, size_t len, char prefix, ims_token_fn fn, void *ctx);

/* All tokens of a parsed message (body, subject, headers, links...). */
void ims_features_tokens(const struct ims_parsed *p, ims_token_fn fn, void *ctx);

#endif
