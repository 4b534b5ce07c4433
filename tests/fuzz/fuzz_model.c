/* Fuzz target: loading a model file (corrupt, truncated, hostile).
 *
 * The input is a model file without its last 32 bytes: the harness appends
 * the BLAKE2b checksum the loader checks (libsodium crypto_generichash), so
 * the header, the JSON and the weight table are really parsed (a corrupt
 * file with a wrong checksum is refused before any of that).  Inputs that
 * start with "RAW\n" are loaded as they are (the checksum path itself).
 *
 * Oracles: a loaded model has sane settings, a finite decision and a
 * probability in [0, 1]; saved again and reloaded it reads the same. */
#include "config.h"

#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "featurize.h"
#include "fuzz_common.h"
#include "model.h"

static struct ims_model *load(const uint8_t *data, size_t size, char *err, size_t errlen)
{
	struct ims_model *m = NULL;
	char path[64];
	int fd = memfd_create("ims-fuzz-model", 0);

	if (fd < 0)
		return NULL;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (ims_model_load(path, &m, err, errlen) != IMS_OK)
			m = NULL;
	}
	close(fd);
	return m;
}

static void check(const struct ims_model *m)
{
	struct ims_model_info a, b;
	struct ims_model *again = NULL;
	uint32_t idx[3] = {1, 2, 0};
	double val[3] = {0.5, -0.5, 1.0};
	struct ims_fvec x = {.n = 3, .idx = idx, .val = val};
	char dir[] = "/tmp/ims-fuzz-model-XXXXXX", path[64], err[512];
	double d, p;

	ims_model_get_info(m, &a);
	if (a.hash_bits < IMS_HASH_BITS_MIN || a.hash_bits > IMS_HASH_BITS_MAX ||
	    a.feature_version != IMS_FEATURE_VERSION || !a.version || !a.metrics_json)
		fuzz_fail("loaded model with bad settings (hash_bits %u)", a.hash_bits);
	idx[2] = 1u << a.hash_bits;
	d = ims_model_decision(m, &x);
	p = ims_model_probability(m, d);
	if (!isfinite(d) || !(p >= 0.0 && p <= 1.0))
		fuzz_fail("decision %g, probability %g", d, p);
	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof path, "%s/m", dir);
	if (ims_model_save(m, path, err, sizeof err) != IMS_OK)
		fuzz_fail("cannot save a model that loaded: %s", err);
	if (ims_model_load(path, &again, err, sizeof err) != IMS_OK)
		fuzz_fail("a saved model does not load again: %s", err);
	ims_model_get_info(again, &b);
	if (a.hash_bits != b.hash_bits || a.nonzero != b.nonzero || a.rho != b.rho ||
	    strcmp(a.version, b.version) != 0 || ims_model_decision(again, &x) != d)
		fuzz_fail("model differs after save and load");
	ims_model_unref(again);
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_model *m;
	uint8_t *buf;
	char err[1024];

	if (size >= 4 && memcmp(data, "RAW\n", 4) == 0) {
		m = load(data + 4, size - 4, err, sizeof err);
	} else {
		buf = malloc(size + crypto_generichash_BYTES);
		if (!buf)
			return 0;
		memcpy(buf, data, size);
		crypto_generichash(buf + size, crypto_generichash_BYTES, buf, size, NULL, 0);
		m = load(buf, size + crypto_generichash_BYTES, err, sizeof err);
		free(buf);
	}
	if (m)
		check(m);
	ims_model_unref(m);
	return 0;
}
