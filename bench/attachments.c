/* CPU time of the attachment walker (lib/attachments.c) per kind of
 * attachment: each file named on the command line is checked 200 times
 * with the default [attachments] limits; prints a markdown table row per
 * file.  Built and fed by bench/attachments.sh. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attachments.h"

static int found;

static void count(void *arg, const char *symbol, const char *detail)
{
	(void)arg, (void)symbol, (void)detail;
	found++;
}

static double cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static const struct ims_attach_limits lim = {10 << 20, 1000, 50 << 20, 3};
	static char buf[16 << 20];

	printf("| attachment | bytes | findings | CPU ms per check |\n|---|---|---|---|\n");
	for (int i = 1; i < argc; i++) {
		struct ims_attach_budget b;
		const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
		FILE *f = fopen(argv[i], "rb");
		size_t n;
		double t0;

		if (!f)
			return 1;
		n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		ims_attach_budget_init(&b, &lim); /* warm-up: libmagic's database */
		if (ims_attach_check(&b, name, "", buf, n, false, count, NULL) != IMS_OK)
			return 1;
		found = 0;
		t0 = cpu_ms();
		for (int k = 0; k < 200; k++) {
			ims_attach_budget_init(&b, &lim);
			ims_attach_check(&b, name, "", buf, n, false, count, NULL);
		}
		printf("| `%s` | %zu | %d | %.3f |\n", name, n, found / 200, (cpu_ms() - t0) / 200);
	}
	return 0;
}
