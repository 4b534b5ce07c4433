/* Fuzz target: loading a model file (corrupt, truncated, hostile). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_model *m = NULL;
	char path[64], err[1024];
	int fd = memfd_create("ims-fuzz-model", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (ims_model_load(path, &m, err, sizeof err) == IMS_OK)
			ims_model_unref(m);
	}
	close(fd);
	return 0;
}
