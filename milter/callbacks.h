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

/* From now on new transactions (MAIL FROM) get 421 4.3.2: the daemon is
 * shutting down and finishes only what is in flight. */
void ims_milter_drain(void);

#endif
