/* Telling the service manager how the daemon is doing (systemd's sd_notify;
 * Type=notify units).  Without libsystemd, or when not started by systemd
 * (no NOTIFY_SOCKET), every call does nothing. */
#ifndef IMS_NOTIFY_H
#define IMS_NOTIFY_H

/* The daemon listens and serves: systemd starts units ordered after it. */
void ims_notify_ready(void);

/* A reload began (configuration and model read again) / ended. */
void ims_notify_reloading(void);

/* Shutting down: messages or requests in flight are finishing. */
void ims_notify_stopping(void);

#endif
