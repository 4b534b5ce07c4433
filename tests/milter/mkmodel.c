/* mkmodel OUT RHO: writes a model whose decision is -RHO for every message
 * (all weights zero), so milter tests get a fixed verdict: RHO > 0 ham,
 * RHO < 0 spam.  Tests that need a real model train one with `ims train`. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "model.h"

int main(int argc, char **argv)
{
	double *w;
	struct ims_model *m;
	char err[256];
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: mkmodel OUT RHO\n");
		return 2;
	}
	w = calloc((1u << 10) + 1, sizeof *w);
	if (!w)
		return 1;
	struct ims_model_params p = {.hash_bits = 10,
	                             .w = w,
	                             .rho = strtod(argv[2], NULL),
	                             .platt_a = -8.0,
	                             .platt_b = 0.0,
	                             .c = 1.0,
	                             .trainer = "mkmodel"};
	if (ims_model_new(&p, &m) != IMS_OK)
		goto out;
	if (ims_model_save(m, argv[1], err, sizeof err) != IMS_OK)
		fprintf(stderr, "mkmodel: %s\n", err);
	else
		rc = 0;
	ims_model_unref(m);
out:
	free(w);
	return rc;
}
