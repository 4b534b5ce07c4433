/* Runs a fuzz target over files and directories of inputs, so the fuzz
 * corpora are regression tests under AddressSanitizer in `make check`
 * without libFuzzer.  With --enable-fuzzers the targets link libFuzzer's
 * own main instead (tests/fuzz/run.sh). */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (64u << 20)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		perror(path);
		return 1;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > REPLAY_MAX_INPUT) {
				fprintf(stderr, "%s: larger than %u bytes, skipped\n", path,
				        REPLAY_MAX_INPUT);
				break;
			}
			uint8_t *nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf ? buf : (const uint8_t *)"", n);
	free(buf);
	return 0;
}

static int run_path(const char *path, int *count)
{
	struct stat st;
	int rc = 0;

	if (stat(path, &st) < 0) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	DIR *d = opendir(path);
	struct dirent *e;
	if (!d) {
		perror(path);
		return 1;
	}
	while ((e = readdir(d))) {
		char sub[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		rc |= run_path(sub, count);
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0, count = 0;

	/* A few inputs every target must survive, whatever the corpus holds. */
	static const char *const builtin[] = {"",  "\n",        "\r\n\r\n",
	                                      ":", "From:\n\n", "\xff\xfe\x00"};
	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
		LLVMFuzzerTestOneInput((const uint8_t *)builtin[i], strlen(builtin[i]));
	for (int i = 1; i < argc; i++)
		rc |= run_path(argv[i], &count);
	printf("%s: %d inputs replayed\n", argv[0], count);
	return rc;
}
