/* Model files: see model.h and docs/classifier.md "Model file". */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "featurize.h"
#include "model.h"

#define MAGIC     "IMSMODEL"
#define MAGIC_LEN 8
#define SUM_LEN   32 /* crypto_generichash_BYTES */
#define ENTRY_LEN 12 /* uint32 index + float64 weight */

struct ims_model {
	atomic_int refs;
	unsigned hash_bits, feature_version;
	size_t dim; /* 2^hash_bits; w has dim + 1 entries */
	double *w;
	double rho, a, b, c;
	double threshold, threshold_q, target_fpr, quarantine_fpr;
	int has_q;
	size_t nonzero;
	char *version, *trained_at, *trainer, *metrics_json;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void model_free(struct ims_model *m)
{
	if (!m)
		return;
	if (m->w)
		munmap(m->w, (m->dim + 1) * sizeof *m->w);
	free(m->version);
	free(m->trained_at);
	free(m->trainer);
	free(m->metrics_json);
	free(m);
}

struct ims_model *ims_model_ref(struct ims_model *m)
{
	if (m)
		atomic_fetch_add(&m->refs, 1);
	return m;
}

void ims_model_unref(struct ims_model *m)
{
	if (m && atomic_fetch_sub(&m->refs, 1) == 1)
		model_free(m);
}

const char *ims_model_version(const struct ims_model *m)
{
	return m->version;
}

void ims_model_get_info(const struct ims_model *m, struct ims_model_info *out)
{
	out->format_version = IMS_MODEL_FORMAT_VERSION;
	out->feature_version = m->feature_version;
	out->hash_bits = m->hash_bits;
	out->version = m->version;
	out->trained_at = m->trained_at;
	out->trainer = m->trainer;
	out->metrics_json = m->metrics_json;
	out->c = m->c;
	out->rho = m->rho;
	out->platt_a = m->a;
	out->platt_b = m->b;
	out->threshold = m->threshold;
	out->threshold_quarantine = m->has_q ? m->threshold_q : m->threshold;
	out->has_quarantine = m->has_q;
	out->target_fpr = m->target_fpr;
	out->quarantine_fpr = m->quarantine_fpr;
	out->nonzero = m->nonzero;
}

double ims_model_decision(const struct ims_model *m, const struct ims_fvec *x)
{
	double d = -m->rho;

	for (size_t i = 0; i < x->n; i++)
		if (x->idx[i] <= m->dim)
			d += m->w[x->idx[i]] * x->val[i];
	return d;
}

double ims_model_probability(const struct ims_model *m, double f)
{
	double t = m->a * f + m->b;

	/* 1 / (1 + exp(t)), written so that neither branch overflows */
	if (t >= 0)
		return exp(-t) / (1.0 + exp(-t));
	return 1.0 / (1.0 + exp(t));
}

double ims_model_log_odds(const struct ims_model *m, double f)
{
	return -m->a * (f - m->threshold);
}

static struct ims_model *model_alloc(unsigned bits)
{
	struct ims_model *m = calloc(1, sizeof *m);

	if (!m)
		return NULL;
	atomic_init(&m->refs, 1);
	m->hash_bits = bits;
	m->feature_version = IMS_FEATURE_VERSION;
	m->dim = (size_t)1 << bits;
	/* The dense weight vector (8 MiB at 2^20), zeroed, in huge pages where
	 * the kernel allows and populated in one call: touching it page by
	 * page costs a fault per 4 KiB, half of the model's load time on this
	 * VM (51 ms -> 25 ms), and huge pages spare the TLB in the random
	 * lookups of classification. */
	m->w = mmap(NULL, (m->dim + 1) * sizeof *m->w, PROT_READ | PROT_WRITE,
	            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->w != MAP_FAILED) { /* hints: failure only costs speed */
#ifdef MADV_HUGEPAGE
		madvise(m->w, (m->dim + 1) * sizeof *m->w, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
		madvise(m->w, (m->dim + 1) * sizeof *m->w, MADV_POPULATE_WRITE);
#endif
	}
	if (m->w == MAP_FAILED) {
		m->w = NULL;
		free(m);
		return NULL;
	}
	return m;
}

ims_status ims_model_new(const struct ims_model_params *p, struct ims_model **out)
{
	struct ims_model *m;
	unsigned char sum[SUM_LEN];
	crypto_generichash_state st;
	char ts[32], version[64];
	time_t now = time(NULL);
	struct tm tm;

	*out = NULL;
	if (p->hash_bits < IMS_HASH_BITS_MIN || p->hash_bits > IMS_HASH_BITS_MAX || !p->w ||
	    !isfinite(p->threshold) || (p->has_quarantine && !isfinite(p->threshold_quarantine)))
		return IMS_EINVAL;
	if (sodium_init() < 0)
		return IMS_ENOMEM;
	m = model_alloc(p->hash_bits);
	if (!m)
		return IMS_ENOMEM;
	memcpy(m->w, p->w, (m->dim + 1) * sizeof *m->w);
	m->w[0] = 0;
	m->rho = p->rho;
	m->a = p->platt_a;
	m->b = p->platt_b;
	m->c = p->c;
	m->threshold = p->threshold;
	m->has_q = p->has_quarantine;
	m->threshold_q = p->has_quarantine ? p->threshold_quarantine : p->threshold;
	m->target_fpr = p->target_fpr;
	m->quarantine_fpr = p->has_quarantine ? p->quarantine_fpr : -1;
	crypto_generichash_init(&st, NULL, 0, sizeof sum);
	for (size_t i = 1; i <= m->dim; i++) {
		if (m->w[i] != 0) {
			m->nonzero++;
			crypto_generichash_update(&st, (const unsigned char *)&m->w[i],
			                          sizeof m->w[i]);
		}
	}
	crypto_generichash_update(&st, (const unsigned char *)&m->rho, sizeof m->rho);
	crypto_generichash_update(&st, (const unsigned char *)&m->threshold, sizeof m->threshold);
	crypto_generichash_final(&st, sum, sizeof sum);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	strftime(version, sizeof version, "%Y%m%dT%H%M%SZ-", &tm);
	for (int i = 0; i < 4; i++) {
		size_t l = strlen(version);

		snprintf(version + l, sizeof version - l, "%02x", sum[i]);
	}
	m->version = strdup(version);
	m->trained_at = strdup(ts);
	m->trainer = strdup(p->trainer ? p->trainer : "unknown");
	m->metrics_json = strdup(p->metrics_json ? p->metrics_json : "{}");
	if (!m->version || !m->trained_at || !m->trainer || !m->metrics_json) {
		model_free(m);
		return IMS_ENOMEM;
	}
	*out = m;
	return IMS_OK;
}

/* --- writing --- */

static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_f64(unsigned char *p, double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof v);
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static double get_f64(const unsigned char *p)
{
	uint64_t v;
	double d;

	memcpy(&v, p, sizeof v); /* one load instead of eight (model load time) */
	v = le64toh(v);
	memcpy(&d, &v, sizeof d);
	return d;
}

ims_status ims_model_save(const struct ims_model *m, const char *path, char *err, size_t errlen)
{
	ims_status rc = IMS_ENOMEM;
	json_t *meta = NULL, *metrics = NULL;
	char *meta_text = NULL, *tmp = NULL;
	unsigned char *buf = NULL;
	size_t meta_len, len, off = 0;
	FILE *f = NULL;

	if (sodium_init() < 0)
		goto out;
	metrics = json_loads(m->metrics_json, 0, NULL);
	if (!metrics)
		metrics = json_object();
	meta = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:O}", "model_version",
	                 m->version, "feature_version", (json_int_t)m->feature_version, "hash_bits",
	                 (json_int_t)m->hash_bits, "trained_at", m->trained_at, "trainer",
	                 m->trainer, "tokenizer", "ims-1", "C", m->c, "rho", m->rho, "platt_a",
	                 m->a, "platt_b", m->b, "metrics", metrics);
	if (!meta || json_object_set_new(meta, "threshold", json_real(m->threshold)) ||
	    json_object_set_new(meta, "target_fpr", json_real(m->target_fpr)) ||
	    (m->has_q &&
	     (json_object_set_new(meta, "threshold_quarantine", json_real(m->threshold_q)) ||
	      json_object_set_new(meta, "quarantine_fpr", json_real(m->quarantine_fpr)))))
		goto out;
	if (!(meta_text = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS)))
		goto out;
	meta_len = strlen(meta_text);
	len = MAGIC_LEN + 4 + 4 + meta_len + 4 + m->nonzero * ENTRY_LEN + SUM_LEN;
	buf = malloc(len);
	if (!buf)
		goto out;
	memcpy(buf, MAGIC, MAGIC_LEN);
	off = MAGIC_LEN;
	put_u32(buf + off, IMS_MODEL_FORMAT_VERSION);
	put_u32(buf + off + 4, (uint32_t)meta_len);
	off += 8;
	memcpy(buf + off, meta_text, meta_len);
	off += meta_len;
	put_u32(buf + off, (uint32_t)m->nonzero);
	off += 4;
	for (size_t i = 1; i <= m->dim; i++) {
		if (m->w[i] == 0)
			continue;
		put_u32(buf + off, (uint32_t)i);
		put_f64(buf + off + 4, m->w[i]);
		off += ENTRY_LEN;
	}
	crypto_generichash(buf + off, SUM_LEN, buf, off, NULL, 0);

	size_t plen = strlen(path) + 16;

	tmp = malloc(plen);
	if (!tmp)
		goto out;
	snprintf(tmp, plen, "%s.tmp", path);
	rc = IMS_EIO;
	f = fopen(tmp, "wb");
	if (!f) {
		seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		f = NULL;
		seterr(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
		remove(tmp);
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		remove(tmp);
		goto out;
	}
	rc = IMS_OK;
out:
	if (rc == IMS_ENOMEM)
		seterr(err, errlen, "out of memory");
	if (f)
		fclose(f);
	free(tmp);
	free(buf);
	free(meta_text);
	json_decref(meta);
	json_decref(metrics);
	return rc;
}

/* --- reading --- */

static ims_status read_file(const char *path, unsigned char **out, size_t *len, char *err,
                            size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	unsigned char *buf;

	*out = NULL;
	if (!f) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? IMS_ENOTFOUND : IMS_EIO;
	}
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		fclose(f);
		return IMS_EIO;
	}
	if ((unsigned long long)sb.st_size > IMS_MODEL_MAX_FILE) {
		seterr(err, errlen, "%s: too large for a model (%lld bytes)", path,
		       (long long)sb.st_size);
		fclose(f);
		return IMS_EFORMAT;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		fclose(f);
		seterr(err, errlen, "out of memory");
		return IMS_ENOMEM;
	}
	*len = fread(buf, 1, (size_t)sb.st_size, f);
	if (ferror(f)) {
		seterr(err, errlen, "%s: read error", path);
		fclose(f);
		free(buf);
		return IMS_EIO;
	}
	fclose(f);
	*out = buf;
	return IMS_OK;
}

static int get_real(json_t *o, const char *key, double *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return 0;
	*out = json_number_value(v);
	return isfinite(*out);
}

static char *get_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return strdup(s ? s : "");
}

ims_status ims_model_load(const char *path, struct ims_model **out, char *err, size_t errlen)
{
	ims_status rc;
	unsigned char *buf = NULL, sum[SUM_LEN];
	size_t len = 0, off, meta_len, nnz;
	json_t *meta = NULL;
	json_error_t jerr;
	struct ims_model *m = NULL;
	json_int_t fv, bits;

	*out = NULL;
	if (sodium_init() < 0) {
		seterr(err, errlen, "libsodium failed to initialise");
		return IMS_ENOMEM;
	}
	rc = read_file(path, &buf, &len, err, errlen);
	if (rc != IMS_OK)
		return rc;
	rc = IMS_EFORMAT;
	if (len < MAGIC_LEN || memcmp(buf, MAGIC, MAGIC_LEN) != 0) {
		seterr(err, errlen, "%s: not an ims model file (bad magic)", path);
		goto out;
	}
	if (len < MAGIC_LEN + 12 + SUM_LEN) {
		seterr(err, errlen, "%s: truncated model file (%zu bytes)", path, len);
		goto out;
	}
	if (get_u32(buf + MAGIC_LEN) != IMS_MODEL_FORMAT_VERSION) {
		seterr(err, errlen, "%s: model file format %u, this ims reads format %u", path,
		       get_u32(buf + MAGIC_LEN), IMS_MODEL_FORMAT_VERSION);
		rc = IMS_EVERSION;
		goto out;
	}
	crypto_generichash(sum, SUM_LEN, buf, len - SUM_LEN, NULL, 0);
	if (sodium_memcmp(sum, buf + len - SUM_LEN, SUM_LEN) != 0) {
		seterr(err, errlen, "%s: checksum mismatch: model file is corrupt or truncated",
		       path);
		goto out;
	}
	off = MAGIC_LEN + 4;
	meta_len = get_u32(buf + off);
	off += 4;
	if (meta_len > IMS_MODEL_MAX_HEADER || meta_len > len - SUM_LEN - off - 4) {
		seterr(err, errlen, "%s: bad header length", path);
		goto out;
	}
	meta = json_loadb((const char *)buf + off, meta_len, 0, &jerr);
	if (!json_is_object(meta)) {
		seterr(err, errlen, "%s: bad model header: %s", path,
		       meta ? "not an object" : jerr.text);
		goto out;
	}
	off += meta_len;
	fv = json_integer_value(json_object_get(meta, "feature_version"));
	bits = json_integer_value(json_object_get(meta, "hash_bits"));
	if (fv != IMS_FEATURE_VERSION) {
		seterr(err, errlen,
		       "%s: model was trained with feature version %lld, this ims uses version %d: "
		       "retrain it with 'ims train'",
		       path, (long long)fv, IMS_FEATURE_VERSION);
		rc = IMS_EVERSION;
		goto out;
	}
	if (bits < IMS_HASH_BITS_MIN || bits > IMS_HASH_BITS_MAX) {
		seterr(err, errlen, "%s: bad hash_bits %lld", path, (long long)bits);
		goto out;
	}
	m = model_alloc((unsigned)bits);
	if (!m) {
		rc = IMS_ENOMEM;
		seterr(err, errlen, "out of memory");
		goto out;
	}
	if (!get_real(meta, "rho", &m->rho) || !get_real(meta, "platt_a", &m->a) ||
	    !get_real(meta, "platt_b", &m->b) || !get_real(meta, "C", &m->c) ||
	    !get_real(meta, "threshold", &m->threshold) ||
	    !get_real(meta, "target_fpr", &m->target_fpr)) {
		seterr(err, errlen,
		       "%s: header lacks rho, platt_a, platt_b, C, threshold or target_fpr", path);
		goto out;
	}
	m->has_q = json_object_get(meta, "threshold_quarantine") != NULL;
	m->threshold_q = m->threshold;
	m->quarantine_fpr = -1;
	if (m->has_q && (!get_real(meta, "threshold_quarantine", &m->threshold_q) ||
	                 !get_real(meta, "quarantine_fpr", &m->quarantine_fpr))) {
		seterr(err, errlen, "%s: bad threshold_quarantine or quarantine_fpr", path);
		goto out;
	}

	nnz = get_u32(buf + off);
	off += 4;
	if (nnz > m->dim || nnz * ENTRY_LEN != len - SUM_LEN - off) {
		seterr(err, errlen, "%s: weight table size does not match the file", path);
		goto out;
	}
	for (size_t i = 0, prev = 0; i < nnz; i++, off += ENTRY_LEN) {
		uint32_t idx = get_u32(buf + off);
		double wv = get_f64(buf + off + 4);

		/* as ims_model_save writes them: increasing indices, non-zero
		 * weights (nonzero must count them: saving again relies on it) */
		if (idx <= prev || idx > m->dim || !isfinite(wv) || wv == 0) {
			seterr(err, errlen, "%s: bad weight entry %zu", path, i);
			goto out;
		}
		m->w[idx] = wv;
		prev = idx;
	}
	m->nonzero = nnz;
	m->version = get_str(meta, "model_version");
	m->trained_at = get_str(meta, "trained_at");
	m->trainer = get_str(meta, "trainer");
	if (json_is_object(json_object_get(meta, "metrics")))
		m->metrics_json =
		    json_dumps(json_object_get(meta, "metrics"), JSON_COMPACT | JSON_SORT_KEYS);
	else
		m->metrics_json = strdup("{}");
	if (!m->version || !m->trained_at || !m->trainer || !m->metrics_json) {
		rc = IMS_ENOMEM;
		seterr(err, errlen, "out of memory");
		goto out;
	}
	*out = m;
	m = NULL;
	rc = IMS_OK;
out:
	model_free(m);
	json_decref(meta);
	free(buf);
	return rc;
}
