/* ims.conf: one INI file, read with libinih, described by one table.
 *
 * Every key has a row in conf.c's table: section, name, type, default and a
 * one-line doc.  The parser, the sample config (etc/ims.conf.sample) and the
 * reference (docs/configuration.md) all come from that table, so they
 * cannot drift; `make check` compares the committed files with the table.
 *
 * A loaded config is an immutable, reference-counted snapshot: a daemon
 * swaps in a new one on reload (SIGUSR1) while messages in flight keep the old one
 * until they drop their reference. */
#ifndef IMS_CONF_H
#define IMS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "status.h"

#define IMS_CONF_DEFAULT_PATH IMS_SYSCONFDIR "/ims/ims.conf"

struct ims_conf {
	char *path; /* the file it came from; NULL for built-in defaults */

	/* [log] */
	char *log_target;
	char *log_level;
	char *log_facility;

	/* [milter] */
	char *milter_socket;
	char *milter_user;
	char *milter_pidfile;
	char *milter_metrics_listen;
	size_t milter_max_message_size;
	size_t milter_max_header_size;
	int milter_max_headers;
	char *milter_authserv_id;
	char **milter_local_domains;    /* NULL-terminated */
	char **milter_trusted_networks; /* NULL-terminated CIDRs */
	char *milter_on_oversize;       /* "reject" or "tempfail" */
	char *milter_on_multiple_from;  /* "reject" or "score" */
	bool milter_sign_outbound;
	bool milter_reject_unknown_recipients;

	/* [dns] */
	char **dns_nameservers; /* "host:port", NULL-terminated; empty = system resolver */
	int dns_timeout_ms;

	/* [dnsbl]: rules ZONE[:CODE]=SYMBOL:WEIGHT (lib/dnsbl.h), NULL-terminated */
	char **dnsbl_client;
	char **dnsbl_helo;
	char **dnsbl_domain;
	int dnsbl_max_lookups;

	/* [intel]: local threat intelligence lists (lib/intel.h) */
	char *intel_dir;
	int intel_max_entries;

	/* [links]: link rewriting and click-time checks (lib/links.h) */
	char *links_rewrite; /* "tagged", "all" or "off" */
	char *links_click_url;
	char *links_key_file;
	int links_lifetime_days;
	int links_max_links;
	/* [senders]: users' and domains' allow/block lists (lib/senders.h) */
	int senders_max_entries;
	/* [bec]: impersonation and look-alikes (lib/bec.h) */
	bool bec_enabled;
	char **bec_protected_domains;
	char **bec_protected_names;
	char **bec_freemail_domains;
	int bec_max_edit_distance;
	int bec_min_label_length;
	bool bec_first_time_sender;
	int bec_correspondents_max;
	int bec_correspondents_days;

	/* [siem]: the event stream to a syslog target (lib/siem.h, ims events forward) */
	char *siem_syslog;
	char *siem_format;   /* "cef" or "json" */
	char *siem_facility; /* a syslog facility name */
	int siem_batch;

	/* [redis] */
	char *redis_host;
	int redis_port;
	char *redis_socket;
	char **redis_cluster; /* "host:port" seed nodes of a Redis Cluster, NULL-terminated;
	                         empty: the standalone Redis at host/port/socket */
	char *redis_password;
	char *redis_user;          /* ACL user (empty: the default user) */
	char *redis_password_file; /* read at load into redis_password */
	int redis_db;
	int redis_timeout_ms;
	int redis_wait_replicas;   /* WAIT for this many replicas after the milter's writes */
	int redis_wait_timeout_ms; /* ... this long at most */
	int redis_retention_days;
	size_t redis_max_stored_size;

	/* [classifier] */
	char *classifier_model;

	/* [scores]: weight per symbol, indexed like ims_symbols[] */
	double *scores;

	/* [actions]: thresholds on the score; a negative value turns the action off */
	double action_tag;
	double action_quarantine;
	double action_reject;

	/* [dkim] */
	char **dkim_keys; /* "domain:selector:/path/to/key.pem", NULL-terminated */
	char *dkim_canonicalization;

	/* [webapi] */
	char *webapi_listen;
	int webapi_threads;
	int webapi_max_connections;
	int webapi_max_connections_per_ip;
	int webapi_head_timeout_s;
	size_t webapi_max_body;
	int webapi_timeout_s;
	char *webapi_jwt_secret_file;
	int webapi_access_ttl_s;
	int webapi_refresh_ttl_s;
	bool webapi_registration;
	char *webapi_submission;
	char *webapi_submission_tls; /* "auto", "required" or "opportunistic" */
	char *webapi_submission_ca_file;
	bool webapi_submission_tls_verify;
	char *webapi_submission_user;
	char *webapi_submission_password_file;
	char *webapi_ui_dir;
	int webapi_login_rate;
	int webapi_send_rate;
	int webapi_scan_rate;
	char *webapi_metrics_token_file;
	int webapi_page_size;

	/* [quarantine] */
	int quarantine_retention_days;
	size_t quarantine_max_message_size;
	size_t quarantine_max_bytes;
	char *quarantine_lmtp;
	char **quarantine_user_release; /* NULL-terminated: score, dmarc */
	char *quarantine_digest_from;
	/* [dovecot]: the mailbox of record, through the doveadm HTTP API */
	char *dovecot_doveadm_socket;
	char *dovecot_doveadm_url;
	char *dovecot_api_key_file;
	int dovecot_timeout_ms;
	char *dovecot_imap; /* unix socket: folder pages over pooled IMAP */
	int dovecot_imap_connections;
	int dovecot_imap_user_connections;
	int dovecot_imap_idle_s;

	/* [users]: how accounts look to Dovecot */
	char *users_mail_home;
	int users_uid;
	int users_gid;

	/* [feedback]: users' spam/ham moves (lib/feedback.h) */
	size_t feedback_max_message_size;
	int feedback_max_per_user;
	int feedback_rate_per_hour;
	int feedback_retention_days;

	/* [antivirus]: clamd (lib/clamd.h, lib/scan_malware.c) */
	char *antivirus_socket; /* "" = off */
	int antivirus_timeout_ms;
	size_t antivirus_max_size;
	char *antivirus_scan;     /* "attachments" or "all" */
	char *antivirus_on_error; /* "tempfail" or "neutral" */
	char *antivirus_action;   /* "reject", "quarantine" or "score" */

	/* [attachments]: types by content, archive members (lib/attachments.h) */
	bool attachments_enabled;
	size_t attachments_max_size;
	int attachments_max_members;
	size_t attachments_max_uncompressed;
	int attachments_max_depth;

	int refs_;
};

/* Loads path (defaults to IMS_CONF_DEFAULT_PATH when NULL).  On success
 * *out is a new snapshot with one reference.  On a bad file the error,
 * naming file, line and key, is written to err (errlen bytes) and
 * IMS_EINVAL (or IMS_EIO/IMS_ENOTFOUND when unreadable) is returned. */
ims_status ims_conf_load(const char *path, struct ims_conf **out, char *err, size_t errlen);

/* 1 when [section] name is a key of the table. */
int ims_conf_has_key(const char *section, const char *name);

/* The i-th key that has a value check beyond its type (for a test that every
 * such key exists); 0 past the end. */
int ims_conf_checked_key(size_t i, const char **section, const char **name);

/* Built-in defaults, as if the file were empty. */
ims_status ims_conf_defaults(struct ims_conf **out);

/* Reference counting: ims_conf_ref returns its argument; the last unref frees. */
struct ims_conf *ims_conf_ref(struct ims_conf *c);
void ims_conf_unref(struct ims_conf *c);

/* Weight of the symbol named name (0 when unknown). */
double ims_conf_score(const struct ims_conf *c, const char *symbol);

/* Write the fully commented sample config / the markdown reference.  With
 * portable set, the compiled-in model directory is written as @modeldir@,
 * so the committed files do not depend on the install prefix. */
void ims_conf_write_sample(FILE *f, bool portable);
void ims_conf_write_reference(FILE *f, bool portable);
void ims_conf_write_man(FILE *f);

#endif
