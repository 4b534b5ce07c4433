/* Cost of the local threat intelligence lists (lib/intel.c): writes N
 * entries (addresses, domains, URLs, sha256 in equal parts) to NAME.block
 * files in a temp dir, loads them as ims-milter does on a change, and looks
 * up domains (with their parents) and addresses.  Prints one JSON object.
 * Built and run by bench/intel.sh. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "intel.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static long rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	char dir[] = "/tmp/ims-bench-intel-XXXXXX", path[512], err[256];
	static const char *const files[] = {"ips.block", "domains.block", "urls.block",
	                                    "hashes.block"};
	struct ims_intel_set *s = NULL;
	struct ims_intel_hit h;
	double t0, t1, t2;
	long hits = 0, rss0 = rss_kb();

	if (n < 4 || !mkdtemp(dir))
		return 1;
	for (int k = 0; k < 4; k++) {
		FILE *f;

		snprintf(path, sizeof path, "%s/%s", dir, files[k]);
		if (!(f = fopen(path, "w")))
			return 1;
		for (long i = 0; i < n / 4; i++) {
			if (k == 0)
				fprintf(f, "10.%ld.%ld.%ld\n", (i >> 16) & 255, (i >> 8) & 255,
				        i & 255);
			else if (k == 1)
				fprintf(f, "bad%ld.example\n", i);
			else if (k == 2)
				fprintf(f, "https://x%ld.example/p?q=%ld\n", i, i);
			else
				fprintf(f, "%016lx%016lx%016lx%016lx\n", i, i * 7, i * 13, i * 31);
		}
		fclose(f);
	}
	t0 = now_ms();
	if (ims_intel_load(dir, (int)n, &s, err, sizeof err) != IMS_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t1 = now_ms();
	for (long i = 0; i < 100000; i++) {
		char d[64];

		snprintf(d, sizeof d, "www.a.bad%ld.example", i * 3);
		hits += ims_intel_match_domain(s, 0, d, &h);
		hits += ims_intel_match_ip(s, 0, "192.0.2.1", &h);
	}
	t2 = now_ms();
	printf("{\"entries\": %zu, \"load_ms\": %.0f, \"rss_kb_for_the_set\": %ld, "
	       "\"match_domain_and_ip_us\": %.2f, \"hits\": %ld}\n",
	       ims_intel_set_size(s), t1 - t0, rss_kb() - rss0, (t2 - t1) * 1000 / 100000, hits);
	ims_intel_set_unref(s);
	for (int k = 0; k < 4; k++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[k]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}
