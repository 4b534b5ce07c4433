/* Fuzz target: a message to the classifier's feature vector
 * (classifier/message.c and featurize.c: GMime parse, tokenizer, hashing).
 * The first byte picks the hash size.
 *
 * Oracles: indices strictly increasing within 1..2^bits, weights finite
 * and positive, the vector L2-normalised; every token non-empty and
 * NUL-terminated at its length. */
#include "config.h"

#include <math.h>
#include <stdint.h>

#include "featurize.h"
#include "fuzz_common.h"
#include "message.h"

static void on_token(void *ctx, const char *tok, size_t len)
{
	(void)ctx;
	if (len == 0 || strlen(tok) != len)
		fuzz_fail("token of length %zu (strlen %zu)", len, strlen(tok));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_parsed *p = NULL;
	struct ims_feature_opts o;
	struct ims_fvec v = {0};
	double norm = 0;

	if (size < 1)
		return 0;
	o.hash_bits = IMS_HASH_BITS_MIN + data[0] % (IMS_HASH_BITS_MAX - IMS_HASH_BITS_MIN + 1);
	if (ims_parse_message((const char *)data + 1, size - 1, &p) != IMS_OK)
		return 0;
	ims_features_tokens(p, on_token, NULL);
	if (ims_features_extract(p, &o, &v) == IMS_OK) {
		for (size_t i = 0; i < v.n; i++) {
			if (v.idx[i] < 1 || v.idx[i] > 1u << o.hash_bits ||
			    (i > 0 && v.idx[i] <= v.idx[i - 1]))
				fuzz_fail("index %u at %zu", v.idx[i], i);
			if (!isfinite(v.val[i]) || v.val[i] <= 0)
				fuzz_fail("weight %g at %zu", v.val[i], i);
			norm += v.val[i] * v.val[i];
		}
		if (v.n > 0 && fabs(norm - 1.0) > 1e-6)
			fuzz_fail("vector norm %g", sqrt(norm));
		ims_fvec_free(&v);
	}
	ims_parsed_free(p);
	return 0;
}
