/* Handing a message to an SMTP server with libcurl: POST /emails/send
 * through [webapi] submission (authenticated, so Postfix runs the milter
 * and signs it); `ims quarantine digest` through the same path.
 *
 * For sending on a user's behalf ims-webapi logs in as a Dovecot master
 * user (submission_user) with the user as the SASL authorization id
 * (AUTH PLAIN "user\0master\0password"), so Postfix and the milter see the
 * user as the authenticated sender (mta-config/dovecot/10-ims.conf).
 *
 * TLS: smtps:// is TLS from the start; on smtp:// STARTTLS is required
 * unless the job says "opportunistic" (or "auto" and the server is on
 * loopback), so a password never crosses a network in clear text.  The
 * server's certificate and name are checked against ca_file or the system's
 * CAs. */
#ifndef IMS_WEB_SMTP_H
#define IMS_WEB_SMTP_H

#include <stddef.h>

#include "status.h"

#define IMS_SMTP_MAX_RCPTS 100

struct ims_smtp_job {
	const char *url;  /* smtp://host:port or smtps://host:port */
	const char *user; /* AUTH user, NULL for none */
	const char *password;
	const char *authzid;   /* AUTH PLAIN authorization id (act as), NULL for none */
	const char *mail_from; /* without <>; "" for the null sender */
	const char *const *rcpts;
	size_t nrcpts;
	const char *raw;
	size_t len;
	int timeout_s;
	/* TLS (ims_smtp_job_tls fills these from [webapi]) */
	const char *tls;     /* "required", "opportunistic", or "auto" (required off loopback) */
	const char *ca_file; /* NULL or "": the system's CAs */
	int tls_no_verify;   /* 1: no certificate check (tests only); 0 checks */
};

struct ims_conf;

/* Sets the job's TLS fields from [webapi] submission_tls, submission_ca_file
 * and submission_tls_verify. */
void ims_smtp_job_tls(struct ims_smtp_job *job, const struct ims_conf *conf);

/* Sends one message.  IMS_OK when the server accepted it; IMS_EPERM when
 * it refused it for good (5xx), IMS_ETEMP when it could not be reached or
 * answered 4xx.  err gets the server's code and curl's reason. */
ims_status ims_smtp_send(const struct ims_smtp_job *job, char *err, size_t errlen);

#endif
