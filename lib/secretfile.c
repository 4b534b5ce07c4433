#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secretfile.h"

ims_status ims_secret_fopen(const char *path, FILE **out, char *err, size_t errlen)
{
	struct stat st;
	FILE *f;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return IMS_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return IMS_EINVAL;
	}
	if (st.st_mode & (S_IRWXO)) {
		snprintf(err, errlen,
		         "%s: mode %04o lets other users at a secret; chmod 600 (or 640 for the "
		         "daemon's group)",
		         path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return IMS_EPERM;
	}
	f = fdopen(fd, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return IMS_EIO;
	}
	*out = f;
	return IMS_OK;
}
