/* Secret files: the JWT key, the submission password, DKIM private keys.
 * They are opened only when no other user may read or write them (mode
 * 0600, or 0640 for the daemon's group), the way OpenSSH treats private
 * keys: a secret that every local user can read is no secret, and the
 * operator hears about it at start, not after a leak. */
#ifndef IMS_SECRETFILE_H
#define IMS_SECRETFILE_H

#include <stddef.h>
#include <stdio.h>

#include "status.h"

/* Opens path for reading into *out (the caller's, fclose).  IMS_EIO when it
 * cannot be opened, IMS_EINVAL when it is not a regular file, IMS_EPERM when
 * other users have any access to it (mode & 007); err (errlen bytes) then
 * names the file and what to do. */
ims_status ims_secret_fopen(const char *path, FILE **out, char *err, size_t errlen);

#endif
