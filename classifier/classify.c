/* Classification: features, then one dot product.  See classify.h. */
#include "config.h"

#include "classify.h"
#include "featurize.h"

ims_status ims_classify_parsed(const struct ims_model *model, const struct ims_parsed *msg,
                               struct ims_classification *out)
{
	struct ims_model_info info;
	struct ims_feature_opts opts;
	struct ims_fvec x;
	ims_status rc;

	ims_model_get_info(model, &info);
	opts.hash_bits = info.hash_bits;
	rc = ims_features_extract(msg, &opts, &x);
	if (rc != IMS_OK)
		return rc;
	out->score = ims_model_decision(model, &x);
	out->threshold = info.threshold;
	out->probability = ims_model_probability(model, out->score);
	out->log_odds = ims_model_log_odds(model, out->score);
	out->spam = out->score > info.threshold;
	out->quarantine = info.has_quarantine && out->score > info.threshold_quarantine;
	ims_fvec_free(&x);
	return IMS_OK;
}

ims_status ims_classify_raw(const struct ims_model *model, const char *raw, size_t len,
                            struct ims_classification *out)
{
	struct ims_parsed *p;
	ims_status rc = ims_parse_message(raw, len, &p);

	if (rc != IMS_OK)
		return rc;
	rc = ims_classify_parsed(model, p, out);
	ims_parsed_free(p);
	return rc;
}
