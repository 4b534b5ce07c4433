/* Before ims-milter gives up root: can the user it becomes read what a
 * reload (SIGUSR1) reads again?  A configuration left 0600 root would
 * otherwise start fine and fail at the first reload. */
#ifndef IMS_MILTER_READABLE_H
#define IMS_MILTER_READABLE_H

#include <stddef.h>

struct ims_conf;

/* Checks, as user (in a child process that becomes that user), that the
 * configuration file conf_path, the model, the DKIM keys, the [intel]
 * directory and the [links] key of conf can be read.  Returns 0, or -1 with the first unreadable
 * file and what to do in err.  A no-op (0) when user is empty or the process is not root. */
int ims_milter_check_readable(const char *user, const struct ims_conf *conf, const char *conf_path,
                              char *err, size_t errlen);

#endif
