/* ims-milter's libmilter callbacks: per-connection and per-message state,
 * and the translation of a scan into milter actions.  Everything else is in
 * lib/ (the scan, the store) so the daemon stays a thin adapter. */
#ifndef IMS_MILTER_CALLBACKS_H
#define IMS_MILTER_CALLBACKS_H

#include <libmilter/mfapi.h>

/* The filter description handed to smfi_register (every callback set). */
extern struct smfiDesc ims_milter_desc;

/* Number of messages between MAIL FROM and their end (eom/abort/close);
 * the daemon waits for 0 before it exits on SIGTERM. */
int ims_milter_in_flight(void);

#endif
