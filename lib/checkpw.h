/* The input of the checkpassword interface (https://cr.yp.to/checkpwd/interface.html),
 * as Dovecot writes it to ims-checkpassword's descriptor 3:
 * "user\0password\0timestamp\0..." in at most IMS_CHECKPW_INPUT_MAX bytes.
 * The user name and the password come from a mail client. */
#ifndef IMS_CHECKPW_H
#define IMS_CHECKPW_H

#include <stddef.h>

#include "status.h"

#define IMS_CHECKPW_INPUT_MAX 512

/* Splits buf (n bytes) into *user and *password, both pointing into buf and
 * NUL-terminated there.  IMS_EINVAL when n is over IMS_CHECKPW_INPUT_MAX or
 * the two fields are not each ended by a NUL; what follows them (the
 * timestamp, Dovecot's extras) is not looked at. */
ims_status ims_checkpw_parse(const char *buf, size_t n, const char **user, const char **password);

#endif
