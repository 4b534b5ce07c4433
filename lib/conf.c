#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <ini.h>
#include <pwd.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clamd.h"
#include "conf.h"
#include "dnsbl.h"
#include "log.h"
#include "netaddr.h"
#include "siem.h"
#include "secretfile.h"
#include "symbols.h"

enum conf_type {
	T_STRING,
	T_ENUM,   /* a string out of a comma-separated list of choices */
	T_INT,    /* integer in [min, max] */
	T_BOOL,   /* yes/no, true/false, on/off, 1/0 */
	T_DOUBLE, /* number in [min, max] */
	T_SIZE,   /* bytes with an optional k, M or G suffix */
	T_LIST,   /* comma-separated strings */
};

struct conf_key {
	const char *section;
	const char *name;
	enum conf_type type;
	size_t offset;
	const char *def; /* default, parsed by the same code as the file */
	double min, max;
	const char *choices; /* T_ENUM */
	const char *doc;
};

#define OFF(f) offsetof(struct ims_conf, f)
#define NOLIM  0, 0, NULL

static const struct conf_key conf_table[] = {
    {"log", "target", T_ENUM, OFF(log_target), "auto", 0, 0, "auto,stderr,syslog",
     "where log lines go; auto: stderr in the foreground (systemd's journal), syslog once a "
     "daemon detaches"},
    {"log", "level", T_ENUM, OFF(log_level), "info", 0, 0, "error,warning,notice,info,debug",
     "lines above this level are dropped"},
    {"log", "facility", T_ENUM, OFF(log_facility), "mail", 0, 0,
     "mail,daemon,user,local0,local1,local2,local3,local4,local5,local6,local7",
     "syslog facility when target = syslog"},

    {"milter", "socket", T_STRING, OFF(milter_socket),
     "unix:/var/spool/postfix/ims/ims-milter.sock", NOLIM,
     "libmilter socket: unix:/path (default: inside Postfix's queue directory, which its "
     "chrooted smtpd reaches as unix:ims/ims-milter.sock) or inet:PORT@ADDRESS (TCP costs a "
     "delayed-ACK wait per message, see docs/milter.md)"},
    {"milter", "user", T_STRING, OFF(milter_user), "", NOLIM,
     "drop privileges to this user after binding (empty: stay)"},
    {"milter", "metrics_listen", T_STRING, OFF(milter_metrics_listen), "", NOLIM,
     "loopback address:port where ims-milter serves Prometheus metrics at /metrics (empty: "
     "off)"},
    {"milter", "pidfile", T_STRING, OFF(milter_pidfile), "", NOLIM,
     "write the daemon's pid here (empty: none)"},
    {"milter", "max_message_size", T_SIZE, OFF(milter_max_message_size), "25M", 1024,
     1024.0 * 1024 * 1024, NULL, "largest message scanned; see on_oversize"},
    {"milter", "max_header_size", T_SIZE, OFF(milter_max_header_size), "64k", 256,
     16.0 * 1024 * 1024, NULL, "largest single header (name and value)"},
    {"milter", "max_headers", T_INT, OFF(milter_max_headers), "1000", 10, 100000, NULL,
     "most headers one message may carry"},
    {"milter", "authserv_id", T_STRING, OFF(milter_authserv_id), "", NOLIM,
     "authserv-id in Authentication-Results (empty: the host name)"},
    {"milter", "local_domains", T_LIST, OFF(milter_local_domains), "", NOLIM,
     "domains whose mailboxes ims stores (comma-separated)"},
    {"milter", "trusted_networks", T_LIST, OFF(milter_trusted_networks), "", NOLIM,
     "client networks (CIDR) treated as internal; empty: none, not even loopback"},
    {"milter", "on_oversize", T_ENUM, OFF(milter_on_oversize), "reject", 0, 0, "reject,tempfail",
     "answer for a message over max_message_size"},
    {"milter", "on_multiple_from", T_ENUM, OFF(milter_on_multiple_from), "reject", 0, 0,
     "reject,score", "answer for a message with more than one From header"},
    {"milter", "sign_outbound", T_BOOL, OFF(milter_sign_outbound), "yes", NOLIM,
     "DKIM-sign mail from authenticated senders (keys in [dkim])"},
    {"milter", "reject_unknown_recipients", T_BOOL, OFF(milter_reject_unknown_recipients), "yes",
     NOLIM,
     "refuse at RCPT (550 5.1.1) a recipient of local_domains that has no account (451 4.3.0 "
     "while Redis cannot say)"},

    {"dns", "nameservers", T_LIST, OFF(dns_nameservers), "", NOLIM,
     "host:port of the resolvers every check uses (empty: the system resolver)"},
    {"dns", "timeout_ms", T_INT, OFF(dns_timeout_ms), "5000", 10, 60000, NULL,
     "per-query timeout; a timeout is a temperror, never a hang"},

    {"dnsbl", "client", T_LIST, OFF(dnsbl_client), "", NOLIM,
     "DNS lists of the client IP, one rule ZONE[:CODE]=SYMBOL:WEIGHT per item (CODE: "
     "127.0.0.N or &MASK; none: any 127/8 answer); repeat the key for more"},
    {"dnsbl", "helo", T_LIST, OFF(dnsbl_helo), "", NOLIM,
     "domain lists the HELO name's registrable domain is looked up in (rules as for client)"},
    {"dnsbl", "domain", T_LIST, OFF(dnsbl_domain), "", NOLIM,
     "URIBL/SURBL-style lists of the registrable domains of links and of the From domain "
     "(rules as for client)"},
    {"dnsbl", "max_lookups", T_INT, OFF(dnsbl_max_lookups), "32", 1, 1000, NULL,
     "DNS list lookups per message; the rest are not asked (DNSBL_LIMIT)"},

    {"intel", "dir", T_STRING, OFF(intel_dir), "", NOLIM,
     "directory of block/allow list files NAME.block and NAME.allow (IPs, networks, "
     "domains, URLs, sha256 of attachments), reloaded on change (empty: off)"},
    {"intel", "max_entries", T_INT, OFF(intel_max_entries), "1000000", 1, 100000000, NULL,
     "entries read from all list files together; lines past it are dropped with a log line"},

    {"links", "rewrite", T_ENUM, OFF(links_rewrite), "tagged", 0, 0, "tagged,all,off",
     "rewrite the links of inbound mail to click_url: tagged mail only, all inbound mail "
     "that is delivered, or off (needs click_url and key_file)"},
    {"links", "click_url", T_STRING, OFF(links_click_url), "", NOLIM,
     "the address of ims-webapi's GET /click as users reach it, e.g. "
     "https://mail.example.com/click (empty: no rewriting)"},
    {"links", "key_file", T_STRING, OFF(links_key_file), "", NOLIM,
     "file (mode 0600 or 0640, at least 32 bytes) whose contents sign the click tokens; "
     "ims-milter and ims-webapi must read the same one (empty: no rewriting, /click off)"},
    {"links", "lifetime_days", T_INT, OFF(links_lifetime_days), "90", 1, 3650, NULL,
     "a rewritten link stops working this long after the message arrived"},
    {"links", "max_links", T_INT, OFF(links_max_links), "500", 1, 10000, NULL,
     "a message with more links is delivered unrewritten (LINKS_NOT_REWRITTEN)"},

    {"senders", "max_entries", T_INT, OFF(senders_max_entries), "1000", 1, 100000, NULL,
     "entries one user's or one domain's sender allow/block list may hold"},
    {"bec", "enabled", T_BOOL, OFF(bec_enabled), "yes", NOLIM,
     "run the impersonation and look-alike checks on inbound mail (BEC_* symbols)"},
    {"bec", "protected_domains", T_LIST, OFF(bec_protected_domains), "", NOLIM,
     "domains whose look-alikes are flagged besides [milter] local_domains (partners, "
     "banks)"},
    {"bec", "protected_names", T_LIST, OFF(bec_protected_names), "", NOLIM,
     "display names flagged on external mail besides the names local users send under"},
    {"bec", "freemail_domains", T_LIST, OFF(bec_freemail_domains),
     "gmail.com,googlemail.com,yahoo.com,outlook.com,hotmail.com,live.com,aol.com,icloud.com,"
     "gmx.com,gmx.de,web.de,mail.com,proton.me,protonmail.com,yandex.ru,mail.ru,qq.com",
     NOLIM,
     "free-mail domains: a Reply-To there is BEC_REPLY_TO_FREEMAIL (repeat the key to add "
     "more)"},
    {"bec", "max_edit_distance", T_INT, OFF(bec_max_edit_distance), "1", 0, 2, NULL,
     "largest edit distance between registrable-domain labels that is a look-alike (0: "
     "confusable characters only)"},
    {"bec", "min_label_length", T_INT, OFF(bec_min_label_length), "5", 1, 63, NULL,
     "shorter protected labels are matched by confusable characters only, not by distance"},
    {"bec", "first_time_sender", T_BOOL, OFF(bec_first_time_sender), "yes", NOLIM,
     "flag a From address no local recipient has corresponded with (BEC_FIRST_TIME_SENDER)"},
    {"bec", "correspondents_max", T_INT, OFF(bec_correspondents_max), "1000", 10, 100000, NULL,
     "addresses and domains remembered per local user (the newest kept)"},
    {"bec", "correspondents_days", T_INT, OFF(bec_correspondents_days), "365", 1, 3650, NULL,
     "a user's correspondents are forgotten after this many days without mail"},

    {"siem", "syslog", T_STRING, OFF(siem_syslog), "", NOLIM,
     "where `ims events forward` sends events: unix:/dev/log, udp:HOST:PORT or tcp:HOST:PORT "
     "(HOST numeric; RFC 5424, octet counting on TCP; empty: off)"},
    {"siem", "format", T_ENUM, OFF(siem_format), "cef", 0, 0, "cef,json",
     "message body: ArcSight CEF or one JSON object"},
    {"siem", "facility", T_ENUM, OFF(siem_facility), "local0", 0, 0,
     "mail,daemon,user,local0,local1,local2,local3,local4,local5,local6,local7",
     "syslog facility of the forwarded events"},
    {"siem", "batch", T_INT, OFF(siem_batch), "100", 1, 10000, NULL,
     "events read from Redis per XREAD; the saved position moves after each batch"},

    {"redis", "host", T_STRING, OFF(redis_host), "127.0.0.1", NOLIM, "Redis host"},
    {"redis", "port", T_INT, OFF(redis_port), "6379", 1, 65535, NULL, "Redis TCP port"},
    {"redis", "socket", T_STRING, OFF(redis_socket), "", NOLIM,
     "Unix socket path; overrides host and port when set"},
    {"redis", "cluster", T_LIST, OFF(redis_cluster), "", NOLIM,
     "a Redis Cluster instead of one Redis: some of its nodes, each HOST:PORT (the others are "
     "found from them); excludes host, port, socket and db"},
    {"redis", "password", T_STRING, OFF(redis_password), "", NOLIM,
     "AUTH password written here (empty: none); prefer password_file"},
    {"redis", "user", T_STRING, OFF(redis_user), "", NOLIM,
     "Redis ACL user to AUTH as with the password (empty: the default user)"},
    {"redis", "password_file", T_STRING, OFF(redis_password_file), "", NOLIM,
     "file holding the password of [redis] user (its first line; mode 0600 or 0640, readable "
     "by the daemons' user: ims-milter reads it again on reload)"},
    {"redis", "db", T_INT, OFF(redis_db), "0", 0, 15, NULL, "database number"},
    {"redis", "timeout_ms", T_INT, OFF(redis_timeout_ms), "2000", 10, 60000, NULL,
     "connect and command timeout"},
    {"redis", "wait_replicas", T_INT, OFF(redis_wait_replicas), "0", 0, 16, NULL,
     "the milter acknowledges a message only once this many replicas of each Redis master "
     "it wrote to have its stores (WAIT; fewer within wait_timeout_ms: 451, the MTA retries); "
     "0: do not wait (replication is asynchronous: a master that dies may lose the last "
     "acknowledged scans); 1 is recommended on a cluster"},
    {"redis", "wait_timeout_ms", T_INT, OFF(redis_wait_timeout_ms), "100", 1, 60000, NULL,
     "how long wait_replicas waits for the replicas; below timeout_ms"},
    {"redis", "retention_days", T_INT, OFF(redis_retention_days), "30", 1, 3650, NULL,
     "stored messages and scan logs expire after this many days"},
    {"redis", "max_stored_size", T_SIZE, OFF(redis_max_stored_size), "10M", 1024,
     1024.0 * 1024 * 1024, NULL, "raw messages larger than this are stored truncated"},

    {"classifier", "model", T_STRING, OFF(classifier_model), IMS_MODELDIR "/model.ims", NOLIM,
     "the SVM model file"},

    {"actions", "tag", T_DOUBLE, OFF(action_tag), "5", -1, 1e6, NULL,
     "score at which X-Spam-Flag: YES is set (negative: never)"},
    {"actions", "quarantine", T_DOUBLE, OFF(action_quarantine), "10", -1, 1e6, NULL,
     "score at which the message is held in quarantine (negative: never)"},
    {"actions", "reject", T_DOUBLE, OFF(action_reject), "15", -1, 1e6, NULL,
     "score at which the message is rejected with 550 5.7.1 (negative: never)"},

    {"dkim", "keys", T_LIST, OFF(dkim_keys), "", NOLIM,
     "signing keys, each domain:selector:/path/to/private.pem (mode 0600 or 0640)"},
    {"dkim", "canonicalization", T_ENUM, OFF(dkim_canonicalization), "relaxed/relaxed", 0, 0,
     "relaxed/relaxed,relaxed/simple,simple/simple,simple/relaxed",
     "header/body canonicalization for signing"},

    {"webapi", "listen", T_STRING, OFF(webapi_listen), "127.0.0.1:8080", NOLIM,
     "address:port the web API listens on"},
    {"webapi", "threads", T_INT, OFF(webapi_threads), "4", 1, 256, NULL, "worker threads"},
    {"webapi", "max_connections", T_INT, OFF(webapi_max_connections), "512", 1, 65536, NULL,
     "concurrent connections"},
    {"webapi", "max_connections_per_ip", T_INT, OFF(webapi_max_connections_per_ip), "32", 0, 65536,
     NULL, "concurrent connections from one client address (0: no cap; set it behind a proxy)"},
    {"webapi", "head_timeout_s", T_INT, OFF(webapi_head_timeout_s), "10", 1, 3600, NULL,
     "seconds a connection has to send a complete request head (slow clients are cut off)"},
    {"webapi", "max_body", T_SIZE, OFF(webapi_max_body), "10M", 1024, 1024.0 * 1024 * 1024, NULL,
     "largest request body (413 above)"},
    {"webapi", "timeout_s", T_INT, OFF(webapi_timeout_s), "30", 1, 3600, NULL,
     "idle connection timeout"},
    {"webapi", "jwt_secret_file", T_STRING, OFF(webapi_jwt_secret_file), "", NOLIM,
     "file holding the HS256 secret (at least 32 bytes; mode 0600 or 0640)"},
    {"webapi", "access_ttl_s", T_INT, OFF(webapi_access_ttl_s), "900", 30, 86400, NULL,
     "lifetime of an access token"},
    {"webapi", "refresh_ttl_s", T_INT, OFF(webapi_refresh_ttl_s), "1209600", 300, 31536000, NULL,
     "lifetime of a refresh token"},
    {"webapi", "registration", T_BOOL, OFF(webapi_registration), "no", NOLIM,
     "allow POST /auth/register for addresses in local_domains"},
    {"webapi", "submission", T_STRING, OFF(webapi_submission), "smtp://127.0.0.1:587", NOLIM,
     "SMTP submission service POST /emails/send goes through (scanned and signed)"},
    {"webapi", "submission_tls", T_ENUM, OFF(webapi_submission_tls), "auto", 0, 0,
     "auto,required,opportunistic",
     "STARTTLS on an smtp:// submission URL (smtps:// is always TLS); auto: required unless "
     "the server is on loopback"},
    {"webapi", "submission_ca_file", T_STRING, OFF(webapi_submission_ca_file), "", NOLIM,
     "PEM file of the CA(s) that sign the submission server's certificate (empty: the "
     "system's CAs)"},
    {"webapi", "submission_tls_verify", T_BOOL, OFF(webapi_submission_tls_verify), "yes", NOLIM,
     "check the submission server's certificate and name (no: tests only; the password would "
     "go to anyone in the path)"},
    {"webapi", "submission_user", T_STRING, OFF(webapi_submission_user), "", NOLIM,
     "SMTP AUTH master user (Dovecot) that sends as the signed-in user (empty: no AUTH)"},
    {"webapi", "submission_password_file", T_STRING, OFF(webapi_submission_password_file), "",
     NOLIM, "file holding the password of submission_user (mode 0600 or 0640)"},
    {"webapi", "ui_dir", T_STRING, OFF(webapi_ui_dir), IMS_MODELDIR "/ui", NOLIM,
     "static files of the web UI"},
    {"webapi", "login_rate", T_INT, OFF(webapi_login_rate), "10", 1, 100000, NULL,
     "failed login attempts allowed per address and per client IP per minute"},
    {"webapi", "send_rate", T_INT, OFF(webapi_send_rate), "30", 1, 100000, NULL,
     "messages a user may send per minute"},
    {"webapi", "scan_rate", T_INT, OFF(webapi_scan_rate), "60", 1, 100000, NULL,
     "POST /scan-email requests a user may make per minute"},
    {"webapi", "metrics_token_file", T_STRING, OFF(webapi_metrics_token_file), "", NOLIM,
     "file holding a bearer token GET /metrics then requires (empty: /metrics is open)"},
    {"webapi", "page_size", T_INT, OFF(webapi_page_size), "50", 1, 1000, NULL,
     "default page size of lists"},

    {"quarantine", "retention_days", T_INT, OFF(quarantine_retention_days), "30", 1, 3650, NULL,
     "days a held message is kept before it is purged unreleased"},
    {"quarantine", "max_message_size", T_SIZE, OFF(quarantine_max_message_size), "10M", 1024,
     1024.0 * 1024 * 1024, NULL,
     "largest message held; a larger one that would be held is rejected"},
    {"quarantine", "max_bytes", T_SIZE, OFF(quarantine_max_bytes), "1G", 0,
     1024.0 * 1024 * 1024 * 1024, NULL,
     "total size of held messages; when full, messages to hold are tempfailed (0: no cap)"},
    {"quarantine", "lmtp", T_STRING, OFF(quarantine_lmtp), "unix:/run/dovecot/ims-lmtp", NOLIM,
     "Dovecot LMTP that released messages are delivered to: unix:/path or host:port"},
    {"quarantine", "user_release", T_LIST, OFF(quarantine_user_release), "score", 0, 0,
     "score,dmarc,rescan",
     "why a message was held for users to release it themselves (score, dmarc, rescan: "
     "pulled after delivery by `ims rescan`; "
     "empty: admins only)"},
    {"quarantine", "digest_from", T_STRING, OFF(quarantine_digest_from), "", NOLIM,
     "sender of `ims quarantine digest`, an ims user (empty: postmaster@ the first local "
     "domain)"},
    {"dovecot", "doveadm_socket", T_STRING, OFF(dovecot_doveadm_socket), "", NOLIM,
     "unix socket of Dovecot's doveadm HTTP listener (service doveadm { unix_listener http })"},
    {"dovecot", "doveadm_url", T_STRING, OFF(dovecot_doveadm_url),
     "http://127.0.0.1:8080/doveadm/v1", NOLIM,
     "URL of the doveadm HTTP API (with doveadm_socket: the path part is used)"},
    {"dovecot", "api_key_file", T_STRING, OFF(dovecot_api_key_file), "", NOLIM,
     "file (mode 0600/0640) holding Dovecot's doveadm_api_key; empty: the web API has no mailbox"},
    {"dovecot", "timeout_ms", T_INT, OFF(dovecot_timeout_ms), "10000", 100, 600000, NULL,
     "time limit of one doveadm request (and of one IMAP answer)"},
    {"dovecot", "imap", T_STRING, OFF(dovecot_imap), "", NOLIM,
     "unix socket of Dovecot's IMAP for ims-webapi (service imap-login { unix_listener "
     "imap-ims }): folder pages over pooled connections logged in as \"USER*\" [webapi] "
     "submission_user; empty: doveadm only"},
    {"dovecot", "imap_connections", T_INT, OFF(dovecot_imap_connections), "16", 1, 1024, NULL,
     "most IMAP connections ims-webapi keeps open (each is an imap process in Dovecot)"},
    {"dovecot", "imap_user_connections", T_INT, OFF(dovecot_imap_user_connections), "4", 1, 1000,
     NULL,
     "most IMAP connections of one user (keep it under Dovecot's mail_max_userip_connections)"},
    {"dovecot", "imap_idle_s", T_INT, OFF(dovecot_imap_idle_s), "60", 1, 86400, NULL,
     "an IMAP connection unused this long is closed"},

    {"users", "mail_home", T_STRING, OFF(users_mail_home), "/var/mail/ims/%d/%n", NOLIM,
     "Dovecot mail home of a user (%d domain, %n local part)"},
    {"users", "uid", T_INT, OFF(users_uid), "5000", 1, 2147483647, NULL,
     "system uid Dovecot delivers as"},
    {"users", "gid", T_INT, OFF(users_gid), "5000", 1, 2147483647, NULL,
     "system gid Dovecot delivers as"},

    {"feedback", "max_message_size", T_SIZE, OFF(feedback_max_message_size), "256k", 1024,
     64.0 * 1024 * 1024, NULL, "bytes of a reported message kept for training (the rest is cut)"},
    {"feedback", "max_per_user", T_INT, OFF(feedback_max_per_user), "5000", 1, 10000000, NULL,
     "messages one user's feedback may cover; more are refused"},
    {"feedback", "rate_per_hour", T_INT, OFF(feedback_rate_per_hour), "200", 1, 1000000, NULL,
     "feedback records one user may add per hour; more are refused"},
    {"feedback", "retention_days", T_INT, OFF(feedback_retention_days), "365", 1, 3650, NULL,
     "a user's feedback index expires this long after their last report"},

    {"antivirus", "socket", T_STRING, OFF(antivirus_socket), "", NOLIM,
     "clamd's socket: unix:/path (Debian: unix:/run/clamav/clamd.ctl) or 127.0.0.1:PORT "
     "(loopback only: clamd has no authentication); empty: no antivirus"},
    {"antivirus", "timeout_ms", T_INT, OFF(antivirus_timeout_ms), "10000", 100, 300000, NULL,
     "deadline of one clamd scan (connect, send, reply); past it, on_error applies"},
    {"antivirus", "max_size", T_SIZE, OFF(antivirus_max_size), "25M", 1024, 1024.0 * 1024 * 1024,
     NULL,
     "bytes of a message streamed to clamd (keep it within clamd's StreamMaxLength); a larger "
     "message is scanned up to this size and gets AV_SIZE_LIMIT"},
    {"antivirus", "scan", T_ENUM, OFF(antivirus_scan), "attachments", 0, 0, "attachments,all",
     "which messages go to clamd: those with an attachment, or all"},
    {"antivirus", "on_error", T_ENUM, OFF(antivirus_on_error), "tempfail", 0, 0, "tempfail,neutral",
     "when clamd is down, times out or fails: tempfail (451, the sender retries) or neutral "
     "(the message goes on unscanned); AV_UNAVAILABLE either way"},
    {"antivirus", "action", T_ENUM, OFF(antivirus_action), "reject", 0, 0,
     "reject,quarantine,score",
     "what VIRUS_FOUND does whatever the score: reject (550), quarantine (held for admins to "
     "release; VIRUS_FOUND then weighs 0, the rest of the score may still reject), or score "
     "(its weight only)"},

    {"attachments", "enabled", T_BOOL, OFF(attachments_enabled), "yes", NOLIM,
     "type attachments by content (libmagic) and list archive members (libarchive)"},
    {"attachments", "max_size", T_SIZE, OFF(attachments_max_size), "10M", 1024,
     1024.0 * 1024 * 1024, NULL,
     "decoded bytes of one attachment or archive member looked at (ATTACH_SIZE_LIMIT above)"},
    {"attachments", "max_members", T_INT, OFF(attachments_max_members), "1000", 1, 1000000, NULL,
     "archive members listed per message (ARCHIVE_MEMBER_LIMIT above)"},
    {"attachments", "max_uncompressed", T_SIZE, OFF(attachments_max_uncompressed), "50M", 1024,
     16.0 * 1024 * 1024 * 1024, NULL,
     "bytes decompressed from archives per message (ARCHIVE_BYTES_LIMIT above)"},
    {"attachments", "max_depth", T_INT, OFF(attachments_max_depth), "3", 1, 16, NULL,
     "archives inside archives opened (ARCHIVE_DEPTH_LIMIT deeper)"},
};

#define CONF_NKEYS (sizeof conf_table / sizeof conf_table[0])

static const char *const known_sections[] = {
    "log",        "milter",  "dns",        "dnsbl",    "intel",     "links",       "senders",
    "bec",        "redis",   "classifier", "scores",   "actions",   "dkim",        "webapi",
    "quarantine", "dovecot", "users",      "feedback", "antivirus", "attachments", "siem"};

/* A default as the docs show it: see ims_conf_write_sample. */
static void put_default(FILE *f, const char *def, bool portable)
{
	size_t n = strlen(IMS_MODELDIR);

	if (portable && strncmp(def, IMS_MODELDIR, n) == 0)
		fprintf(f, "@modeldir@%s", def + n);
	else
		fputs(def, f);
}

static void free_list(char **l)
{
	if (!l)
		return;
	for (char **p = l; *p; p++)
		free(*p);
	free(l);
}

static void conf_free(struct ims_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CONF_NKEYS; i++) {
		void *field = (char *)c + conf_table[i].offset;
		switch (conf_table[i].type) {
		case T_STRING:
		case T_ENUM: free(*(char **)field); break;
		case T_LIST: free_list(*(char ***)field); break;
		default: break;
		}
	}
	free(c->scores);
	free(c->path);
	free(c);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static int parse_double(const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(*out))
		return -1;
	return 0;
}

static int parse_size(const char *v, double *out)
{
	char *end;
	double mul = 1;

	errno = 0;
	*out = strtod(v, &end);
	if (errno || end == v || *out < 0 || !isfinite(*out))
		return -1;
	if (*end) {
		switch (*end) {
		case 'k':
		case 'K': mul = 1024; break;
		case 'm':
		case 'M': mul = 1024.0 * 1024; break;
		case 'g':
		case 'G': mul = 1024.0 * 1024 * 1024; break;
		default: return -1;
		}
		if (end[1] && !((end[1] == 'b' || end[1] == 'B') && !end[2]))
			return -1;
	}
	*out *= mul;
	return 0;
}

static int in_choices(const char *v, const char *choices)
{
	size_t n = strlen(v);
	const char *p = choices;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, v, n) == 0)
			return 1;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

static char **split_list(const char *v)
{
	size_t n = 1, i = 0;
	char *copy, *save = NULL, *tok;
	char **list;

	for (const char *p = v; *p; p++)
		n += *p == ',';
	if (!(list = calloc(n + 1, sizeof *list)) || !(copy = strdup(v))) {
		free(list);
		return NULL;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *t = trim(tok);
		if (!*t)
			continue;
		if (!(list[i++] = strdup(t))) {
			free(copy);
			free_list(list);
			return NULL;
		}
	}
	free(copy);
	return list;
}

/* Sets one key from its text; writes a reason to why on failure. */
static int set_value(struct ims_conf *c, const struct conf_key *k, const char *text, char *why,
                     size_t whylen)
{
	void *field = (char *)c + k->offset;
	char *v, *copy = strdup(text);
	double d;
	int rc = -1;

	if (!copy) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	v = trim(copy);
	switch (k->type) {
	case T_ENUM:
		if (!in_choices(v, k->choices)) {
			snprintf(why, whylen, "'%s' is not one of %s", v, k->choices);
			break;
		}
		/* fall through */
	case T_STRING: {
		char *s = strdup(v);
		if (!s) {
			snprintf(why, whylen, "out of memory");
			break;
		}
		free(*(char **)field);
		*(char **)field = s;
		rc = 0;
		break;
	}
	case T_LIST: {
		char **l = split_list(v);
		if (!l) {
			snprintf(why, whylen, "out of memory");
			break;
		}
		for (char **p = l; k->choices && *p; p++)
			if (!in_choices(*p, k->choices)) {
				snprintf(why, whylen, "'%s' is not one of %s", *p, k->choices);
				free_list(l);
				l = NULL;
				break;
			}
		if (!l)
			break;
		free_list(*(char ***)field);
		*(char ***)field = l;
		rc = 0;
		break;
	}
	case T_BOOL:
		if (parse_bool(v, (bool *)field) < 0)
			snprintf(why, whylen, "'%s' is not yes or no", v);
		else
			rc = 0;
		break;
	case T_INT:
		if (parse_double(v, &d) < 0 || d != floor(d))
			snprintf(why, whylen, "'%s' is not a whole number", v);
		else if (d < k->min || d > k->max)
			snprintf(why, whylen, "%s is out of range [%.0f, %.0f]", v, k->min, k->max);
		else
			*(int *)field = (int)d, rc = 0;
		break;
	case T_DOUBLE:
		if (parse_double(v, &d) < 0)
			snprintf(why, whylen, "'%s' is not a number", v);
		else if (d < k->min || d > k->max)
			snprintf(why, whylen, "%s is out of range [%g, %g]", v, k->min, k->max);
		else
			*(double *)field = d, rc = 0;
		break;
	case T_SIZE:
		if (parse_size(v, &d) < 0)
			snprintf(why, whylen, "'%s' is not a size (bytes, or with k, M, G)", v);
		else if (d < k->min || d > k->max)
			snprintf(why, whylen, "%s is out of range [%.0f, %.0f] bytes", v, k->min,
			         k->max);
		else
			*(size_t *)field = (size_t)d, rc = 0;
		break;
	}
	free(copy);
	return rc;
}

/* Value checks beyond the type: each names what is wrong with one value (for
 * a list key, with one item).  Empty values mean "off" and are not checked. */
typedef ims_status (*conf_check_fn)(const char *v, char *why, size_t whylen);

static ims_status check_cidr(const char *v, char *why, size_t whylen)
{
	struct ims_cidr c;

	return ims_cidr_parse(v, &c, why, whylen);
}

static ims_status check_nameserver(const char *v, char *why, size_t whylen)
{
	return ims_hostport_check(v, true, why, whylen);
}

static ims_status check_listen(const char *v, char *why, size_t whylen)
{
	if (*v == '[' || strchr(v, ':') != strrchr(v, ':')) {
		snprintf(why, whylen, "'%s': want IPv4-ADDRESS:PORT", v);
		return IMS_EINVAL;
	}
	return ims_hostport_check(v, false, why, whylen);
}

/* [redis] cluster: HOST:PORT, HOST an IPv4 address, a [bracketed] IPv6
 * address or a host name. */
static ims_status check_redis_node(const char *v, char *why, size_t whylen)
{
	const char *colon = strrchr(v, ':');
	size_t hl = colon ? (size_t)(colon - v) : 0;
	char num[24];

	if (*v == '[' || (hl && strspn(v, "0123456789.") == hl))
		return ims_hostport_check(v, false, why, whylen);
	if (hl == 0 || hl > 253 || strlen(colon) > 6 ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != hl) {
		snprintf(why, whylen, "'%s': want HOST:PORT", v);
		return IMS_EINVAL;
	}
	snprintf(num, sizeof num, "127.0.0.1%s", colon); /* the port's check */
	return ims_hostport_check(num, false, why, whylen);
}

static ims_status check_user(const char *v, char *why, size_t whylen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwnam_r(v, &pw, buf, sizeof buf, &res) != 0 || !res) {
		snprintf(why, whylen, "no such system user '%s'", v);
		return IMS_EINVAL;
	}
	return IMS_OK;
}

/* A DNS name as it may appear in a mail domain: LDH labels, no empty label. */
static ims_status check_domain(const char *v, char *why, size_t whylen)
{
	size_t label = 0, n = strlen(v);

	if (n == 0 || n > 253)
		goto bad;
	for (const char *p = v; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				goto bad;
			label = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		           (*p >= '0' && *p <= '9') || (*p == '-' && label > 0)) {
			if (++label > 63)
				goto bad;
		} else {
			goto bad;
		}
	}
	if (label == 0 || v[n - 1] == '-')
		goto bad;
	return IMS_OK;
bad:
	snprintf(why, whylen, "'%s' is not a domain name", v);
	return IMS_EINVAL;
}

/* The authserv-id is written into Authentication-Results as a token. */
static ims_status check_token(const char *v, char *why, size_t whylen)
{
	for (const char *p = v; *p; p++) {
		if (*p <= ' ' || *p >= 127 || strchr("()<>@,;:\\\"/[]?=", *p)) {
			snprintf(why, whylen, "'%s' may hold only letters, digits, '.', '-', '_'",
			         v);
			return IMS_EINVAL;
		}
	}
	return IMS_OK;
}

static ims_status check_abs_path(const char *v, char *why, size_t whylen)
{
	if (*v != '/') {
		snprintf(why, whylen, "'%s' is not an absolute path", v);
		return IMS_EINVAL;
	}
	return IMS_OK;
}

/* domain:selector:/path/to/key.pem */
static ims_status check_dkim_key(const char *v, char *why, size_t whylen)
{
	const char *c1 = strchr(v, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char dom[256];

	if (!c1 || !c2 || c2 == c1 + 1 || (size_t)(c1 - v) >= sizeof dom || c2[1] != '/') {
		snprintf(why, whylen, "'%s': want domain:selector:/path/to/key.pem", v);
		return IMS_EINVAL;
	}
	snprintf(dom, sizeof dom, "%.*s", (int)(c1 - v), v);
	return check_domain(dom, why, whylen);
}

static ims_status check_smtp_url(const char *v, char *why, size_t whylen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	ims_status rc = IMS_EINVAL;

	if (!u)
		return IMS_ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, v, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		snprintf(why, whylen, "'%s' is not a URL", v);
	else if (strcmp(scheme, "smtp") != 0 && strcmp(scheme, "smtps") != 0)
		snprintf(why, whylen, "'%s': want smtp://HOST:PORT or smtps://HOST:PORT", v);
	else
		rc = IMS_OK;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* [links] click_url: an absolute http(s) URL without a fragment (the
 * token is appended as ?t= or &t=). */
static ims_status check_click_url(const char *v, char *why, size_t whylen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	ims_status rc = IMS_EINVAL;

	if (!u)
		return IMS_ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, v, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		snprintf(why, whylen, "'%s' is not a URL", v);
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		snprintf(why, whylen, "'%s': want https://HOST/click", v);
	else if (strchr(v, '#') || strlen(v) > 512)
		snprintf(why, whylen, "'%s': no fragment, at most 512 characters", v);
	else
		rc = IMS_OK;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static ims_status check_dnsbl_rule(const char *v, char *why, size_t whylen)
{
	struct ims_dnsbl_rule r;

	return ims_dnsbl_rule_parse(v, &r, why, whylen);
}

static ims_status check_milter_socket(const char *v, char *why, size_t whylen)
{
	return ims_milter_socket_check(v, why, whylen);
}

/* clamd's address, parsed by the client that will use it */
static ims_status check_clamd(const char *v, char *why, size_t whylen)
{
	struct ims_clamd *c = NULL;
	ims_status st = ims_clamd_new(v, 1000, &c, why, whylen);

	ims_clamd_free(c);
	return st;
}

/* [siem] syslog, parsed by the forwarder that will use it */
static ims_status check_syslog_target(const char *v, char *why, size_t whylen)
{
	return ims_siem_target_check(v, why, whylen);
}

static const struct {
	const char *section, *name;
	conf_check_fn check;
} value_checks[] = {
    {"antivirus", "socket", check_clamd},
    {"milter", "socket", check_milter_socket},
    {"milter", "metrics_listen", check_listen},
    {"milter", "user", check_user},
    {"milter", "authserv_id", check_token},
    {"milter", "local_domains", check_domain},
    {"milter", "trusted_networks", check_cidr},
    {"dns", "nameservers", check_nameserver},
    {"dnsbl", "client", check_dnsbl_rule},
    {"dnsbl", "helo", check_dnsbl_rule},
    {"dnsbl", "domain", check_dnsbl_rule},
    {"intel", "dir", check_abs_path},
    {"links", "key_file", check_abs_path},
    {"links", "click_url", check_click_url},
    {"siem", "syslog", check_syslog_target},
    {"redis", "socket", check_abs_path},
    {"redis", "cluster", check_redis_node},
    {"dovecot", "imap", check_abs_path},
    {"redis", "password_file", check_abs_path},
    {"dkim", "keys", check_dkim_key},
    {"webapi", "listen", check_listen},
    {"webapi", "submission", check_smtp_url},
    {"webapi", "jwt_secret_file", check_abs_path},
    {"webapi", "submission_password_file", check_abs_path},
    {"webapi", "submission_ca_file", check_abs_path},
    {"users", "mail_home", check_abs_path},
};

/* Runs the value check of key k (if any) on text; for a list, on each item. */
static int check_value(const struct conf_key *k, const char *text, char *why, size_t whylen)
{
	for (size_t i = 0; i < sizeof value_checks / sizeof value_checks[0]; i++) {
		if (strcmp(value_checks[i].section, k->section) != 0 ||
		    strcmp(value_checks[i].name, k->name) != 0)
			continue;
		if (k->type != T_LIST) {
			char *copy = strdup(text), *v;
			int rc;
			if (!copy)
				return -1;
			v = trim(copy);
			rc = *v && value_checks[i].check(v, why, whylen) != IMS_OK ? -1 : 0;
			free(copy);
			return rc;
		}
		char **l = split_list(text);
		int rc = l ? 0 : -1;
		for (char **p = l; p && *p && rc == 0; p++)
			if (value_checks[i].check(*p, why, whylen) != IMS_OK)
				rc = -1;
		free_list(l);
		return rc;
	}
	return 0;
}

int ims_conf_has_key(const char *section, const char *name)
{
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_table[i].section, section) == 0 &&
		    strcmp(conf_table[i].name, name) == 0)
			return 1;
	return 0;
}

int ims_conf_checked_key(size_t i, const char **section, const char **name)
{
	if (i >= sizeof value_checks / sizeof value_checks[0])
		return 0;
	*section = value_checks[i].section;
	*name = value_checks[i].name;
	return 1;
}

static struct ims_conf *conf_new_defaults(char *why, size_t whylen)
{
	struct ims_conf *c = calloc(1, sizeof *c);
	int n = ims_symbol_count();

	if (!c || !(c->scores = calloc((size_t)n + 1, sizeof *c->scores))) {
		free(c);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < n; i++)
		c->scores[i] = ims_symbols[i].weight;
	for (size_t i = 0; i < CONF_NKEYS; i++) {
		if (set_value(c, &conf_table[i], conf_table[i].def, why, whylen) < 0) {
			conf_free(c);
			return NULL;
		}
	}
	c->refs_ = 1;
	return c;
}

struct parse_state {
	struct ims_conf *conf;
	char why[640]; /* first error; ini_parse reports its line */
	int seen_error;
	bool seen[CONF_NKEYS]; /* a list key seen again appends */
	int line[CONF_NKEYS];  /* where each key was last set, for cross-key errors */
	const char *text;      /* the reader's position in the file */
	int lineno;            /* the line the reader handed to libinih last */
};

/* Appends the items of text to the list key k already set in c. */
static int append_list(struct ims_conf *c, const struct conf_key *k, const char *text)
{
	char ***field = (char ***)((char *)c + k->offset);
	char **add = split_list(text), **old = *field, **l;
	size_t n = 0, m = 0;

	if (!add)
		return -1;
	while (old && old[n])
		n++;
	while (add[m])
		m++;
	if (!(l = realloc(old, (n + m + 1) * sizeof *l))) {
		free_list(add);
		return -1;
	}
	memcpy(l + n, add, (m + 1) * sizeof *l);
	free(add); /* the strings moved to l */
	*field = l;
	return 0;
}

static int conf_ini_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	char why[512];
	size_t s;

	for (s = 0; s < sizeof known_sections / sizeof known_sections[0]; s++)
		if (strcmp(section, known_sections[s]) == 0)
			break;
	if (s == sizeof known_sections / sizeof known_sections[0]) {
		snprintf(why, sizeof why, "unknown section [%s]", section);
		goto bad;
	}
	if (!name) /* a section header alone (INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	if (strcmp(section, "scores") == 0) {
		int i = ims_symbol_find(name);
		double d;
		if (i < 0) {
			snprintf(why, sizeof why, "unknown symbol '%s' in [scores]", name);
			goto bad;
		}
		if (parse_double(value, &d) < 0 || fabs(d) > 1e6) {
			snprintf(why, sizeof why, "[scores] %s: '%s' is not a weight", name, value);
			goto bad;
		}
		st->conf->scores[i] = d;
		return 1;
	}
	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_table[i];
		if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
			continue;
		char reason[256];
		if (k->type == T_LIST && st->seen[i] && !k->choices) {
			if (check_value(k, value, reason, sizeof reason) != 0) {
				snprintf(why, sizeof why, "[%s] %s: %.255s", k->section, k->name,
				         reason);
				goto bad;
			}
			if (append_list(st->conf, k, value) == 0)
				return 1;
			snprintf(why, sizeof why, "out of memory");
			goto bad;
		}
		st->seen[i] = true;
		st->line[i] = st->lineno;
		if (check_value(k, value, reason, sizeof reason) == 0 &&
		    set_value(st->conf, k, value, reason, sizeof reason) == 0)
			return 1;
		snprintf(why, sizeof why, "[%s] %s: %.255s", k->section, k->name, reason);
		goto bad;
	}
	snprintf(why, sizeof why, "unknown key '%s' in [%s]", name, section);
bad:
	if (!st->seen_error) {
		/* the reason quotes the file: its control bytes (a CR in a key)
		 * must not split or rewrite the log line it ends up in */
		size_t n = 0;
		for (const char *c = why; *c && n + 1 < sizeof st->why; c++)
			st->why[n++] = (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c;
		st->why[n] = '\0';
		st->seen_error = 1;
	}
	return 0;
}

ims_status ims_conf_defaults(struct ims_conf **out)
{
	char why[256];

	*out = conf_new_defaults(why, sizeof why);
	return *out ? IMS_OK : IMS_ENOMEM;
}

/* libinih (Debian's build) reads lines into a 200-byte buffer and splits
 * longer ones silently, so they are refused here with a clear error. */
#define CONF_MAX_LINE (INI_MAX_LINE - 3)
#define CONF_MAX_FILE (1u << 20)

/* Reads the whole file into *out (NUL-terminated); checks size, NUL bytes
 * and line lengths.  Returns 0, or -1 with err set. */
static int read_conf_file(FILE *f, const char *path, char **out, char *err, size_t errlen)
{
	size_t n = 0, cap = 4096, col = 0;
	char *buf = malloc(cap);
	int line = 1;

	if (!buf)
		goto nomem;
	for (;;) {
		if (n + 1 >= cap) {
			char *nb;
			if (cap >= CONF_MAX_FILE) {
				snprintf(err, errlen, "%s: larger than %u bytes", path,
				         CONF_MAX_FILE);
				goto fail;
			}
			if (!(nb = realloc(buf, cap * 2)))
				goto nomem;
			buf = nb;
			cap *= 2;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\0') {
			snprintf(err, errlen, "%s:%d: contains a NUL byte", path, line);
			goto fail;
		}
		if (buf[i] == '\n') {
			line++;
			col = 0;
		} else if (buf[i] != '\r' && ++col > CONF_MAX_LINE) {
			snprintf(
			    err, errlen,
			    "%s:%d: line longer than %d characters (put a long list on several "
			    "lines of the same key)",
			    path, line, CONF_MAX_LINE);
			goto fail;
		}
	}
	*out = buf;
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
fail:
	free(buf);
	return -1;
}

/* libinih's reader interface, over the file already read into memory: it
 * hands over one line per call, so the handler knows the line it is on. */
static char *conf_reader(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	const char *nl;
	size_t n;

	if (!*st->text)
		return NULL;
	nl = strchr(st->text, '\n');
	n = nl ? (size_t)(nl - st->text) + 1 : strlen(st->text);
	if (n > (size_t)num - 1)
		n = (size_t)num - 1; /* cannot happen: read_conf_file bounds lines */
	memcpy(str, st->text, n);
	str[n] = '\0';
	st->text += n;
	st->lineno++;
	return str;
}

static size_t key_index(const char *section, const char *name)
{
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_table[i].section, section) == 0 &&
		    strcmp(conf_table[i].name, name) == 0)
			return i;
	return CONF_NKEYS;
}

/* Checks that involve several keys.  Returns the line to blame (the later of
 * the keys involved, 1 when both are defaults) with why set, or 0. */
static int cross_check(const struct parse_state *st, char *why, size_t whylen)
{
	const struct ims_conf *c = st->conf;
	static const char *const order[] = {"tag", "quarantine", "reject"};
	const double v[] = {c->action_tag, c->action_quarantine, c->action_reject};

	/* The enabled thresholds must rise: a quarantine below tag would hold
	 * mail that is not even tagged as spam. */
	for (int i = 0; i < 3; i++) {
		for (int j = i + 1; j < 3; j++) {
			if (v[i] < 0 || v[j] < 0 || v[i] < v[j])
				continue;
			size_t ki = key_index("actions", order[i]),
			       kj = key_index("actions", order[j]);
			int line = st->line[ki] > st->line[kj] ? st->line[ki] : st->line[kj];
			snprintf(why, whylen, "[actions] %s (%g) must be above %s (%g)", order[j],
			         v[j], order[i], v[i]);
			return line ? line : 1;
		}
	}
	/* a cluster has its own nodes (and only database 0) */
	if (c->redis_cluster && c->redis_cluster[0]) {
		static const char *const single[] = {"host", "port", "socket", "db"};
		for (size_t i = 0; i < sizeof single / sizeof single[0]; i++) {
			int line = st->line[key_index("redis", single[i])];
			if (!line)
				continue;
			snprintf(
			    why, whylen,
			    "[redis] %s and cluster are both set: a cluster is reached through "
			    "its nodes (cluster = HOST:PORT,...) and has only database 0",
			    single[i]);
			return line;
		}
	}
	/* WAIT blocks the connection: its reply must come before the
	 * command timeout gives the connection up */
	if (c->redis_wait_replicas > 0 && c->redis_wait_timeout_ms >= c->redis_timeout_ms) {
		size_t w = key_index("redis", "wait_timeout_ms"),
		       t = key_index("redis", "timeout_ms");
		int line = st->line[w] > st->line[t] ? st->line[w] : st->line[t];
		snprintf(why, whylen, "[redis] wait_timeout_ms (%d) must be below timeout_ms (%d)",
		         c->redis_wait_timeout_ms, c->redis_timeout_ms);
		return line ? line : 1;
	}
	if (c->webapi_access_ttl_s >= c->webapi_refresh_ttl_s) {
		size_t k = key_index("webapi", "access_ttl_s"),
		       r = key_index("webapi", "refresh_ttl_s");
		int line = st->line[k] > st->line[r] ? st->line[k] : st->line[r];
		snprintf(why, whylen, "[webapi] access_ttl_s (%d) must be below refresh_ttl_s (%d)",
		         c->webapi_access_ttl_s, c->webapi_refresh_ttl_s);
		return line ? line : 1;
	}
	return 0;
}

/* [redis] password_file: its first line becomes the password, read now
 * (a daemon reads its configuration before dropping privileges). */
static ims_status load_redis_password(struct ims_conf *c, const char *path, char *err,
                                      size_t errlen)
{
	char buf[1024], why[256];
	FILE *f = NULL;
	ims_status st;
	size_t n;

	if (!c->redis_password_file || !*c->redis_password_file)
		return IMS_OK;
	if (c->redis_password && *c->redis_password) {
		snprintf(err, errlen,
		         "%s: [redis] password and password_file are both set: keep one", path);
		return IMS_EINVAL;
	}
	st = ims_secret_fopen(c->redis_password_file, &f, why, sizeof why);
	if (st != IMS_OK) {
		snprintf(err, errlen, "%s: [redis] password_file: %s", path, why);
		return st;
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		snprintf(err, errlen, "%s: [redis] password_file %s: no password on its first line",
		         path, c->redis_password_file);
		return IMS_EINVAL;
	}
	free(c->redis_password);
	c->redis_password = strdup(buf);
	memset(buf, 0, sizeof buf);
	return c->redis_password ? IMS_OK : IMS_ENOMEM;
}

ims_status ims_conf_load(const char *path, struct ims_conf **out, char *err, size_t errlen)
{
	struct parse_state st = {0};
	FILE *f = NULL;
	char *text = NULL;
	ims_status rc = IMS_EINVAL;
	int line;

	*out = NULL;
	if (!path)
		path = IMS_CONF_DEFAULT_PATH;
	if (!(st.conf = conf_new_defaults(st.why, sizeof st.why))) {
		snprintf(err, errlen, "%s: %s", path, st.why);
		return IMS_ENOMEM;
	}
	if (!(f = fopen(path, "r"))) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		rc = errno == ENOENT ? IMS_ENOTFOUND : IMS_EIO;
		goto out;
	}
	if (read_conf_file(f, path, &text, err, errlen) < 0)
		goto out;
	st.text = text;
	line = ini_parse_stream(conf_reader, &st, conf_ini_handler, &st);
	if (line < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = IMS_ENOMEM;
		goto out;
	}
	if (line > 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line,
		         st.seen_error ? st.why
		                       : "syntax error (expected [section] or key = value)");
		goto out;
	}
	if ((line = cross_check(&st, st.why, sizeof st.why)) > 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line, st.why);
		goto out;
	}
	if ((rc = load_redis_password(st.conf, path, err, errlen)) != IMS_OK)
		goto out;
	rc = IMS_EINVAL;
	if (!(st.conf->path = strdup(path))) {
		rc = IMS_ENOMEM;
		goto out;
	}
	*out = st.conf;
	st.conf = NULL;
	rc = IMS_OK;
out:
	if (f)
		fclose(f);
	free(text);
	conf_free(st.conf);
	return rc;
}

struct ims_conf *ims_conf_ref(struct ims_conf *c)
{
	if (c)
		__atomic_add_fetch(&c->refs_, 1, __ATOMIC_RELAXED);
	return c;
}

void ims_conf_unref(struct ims_conf *c)
{
	if (c && __atomic_sub_fetch(&c->refs_, 1, __ATOMIC_ACQ_REL) == 0)
		conf_free(c);
}

double ims_conf_score(const struct ims_conf *c, const char *symbol)
{
	int i = ims_symbol_find(symbol);

	return i < 0 ? 0.0 : c->scores[i];
}

static const char *const section_docs[] = {
    "log",
    "Logging: one line per event, key=value, scan or request id first.",
    "milter",
    "ims-milter: the socket Postfix connects to, limits, and local policy.",
    "dns",
    "The one DNS layer every check (SPF, DKIM, DMARC, DNS lists) goes through.",
    "dnsbl",
    "DNS block lists (DNSBL, URIBL/SURBL) of the client IP, the HELO name, links and "
    "From; each rule names its own symbol and weight (docs/milter.md).",
    "senders",
    "Allow/block lists of senders that users (their own) and admins (any user's, "
    "each local domain's) manage over the web API (docs/api.md).",
    "intel",
    "Local threat intelligence: block and allow list files an operator or a feed "
    "drops in a directory (docs/operations.md).",
    "siem",
    "The event stream to a SIEM over syslog: `ims events forward` (docs/operations.md).",
    "bec",
    "Impersonation and look-alikes: look-alike domains, display names of local users, "
    "Reply-To elsewhere, first-time senders (docs/milter.md).",
    "links",
    "Links at click time: links of inbound mail rewritten to ims-webapi's /click, "
    "checked again when clicked (docs/milter.md).",
    "redis",
    "The Redis store for messages, scan logs, users and events.",
    "classifier",
    "The SVM model.",
    "scores",
    "Weight of each symbol; the score of a message is the sum.",
    "actions",
    "Score thresholds; the highest one reached decides.",
    "dkim",
    "DKIM signing of outbound mail from authenticated senders.",
    "webapi",
    "ims-webapi: HTTP listener, tokens, limits.",
    "quarantine",
    "Held messages: kept by ims only, released into the recipient's INBOX.",
    "dovecot",
    "How ims-webapi reads and changes mail: Dovecot's doveadm HTTP API, and folder pages over "
    "pooled IMAP connections when `imap` is set (docs/operations.md, \"Dovecot\").",
    "users",
    "How accounts in the user registry look to Dovecot.",
    "feedback",
    "Users' spam/ham moves (into and out of Junk) kept as training data.",
};

static const char *section_doc(const char *s)
{
	for (size_t i = 0; i < sizeof section_docs / sizeof section_docs[0]; i += 2)
		if (strcmp(section_docs[i], s) == 0)
			return section_docs[i + 1];
	return "";
}

static const char *type_name(const struct conf_key *k)
{
	switch (k->type) {
	case T_STRING: return "string";
	case T_ENUM: return "one of";
	case T_INT: return "integer";
	case T_BOOL: return "yes/no";
	case T_DOUBLE: return "number";
	case T_SIZE: return "size";
	case T_LIST: return "list";
	}
	return "";
}

/* Writes text as "# " comment lines of at most 78 columns (the loader refuses
 * lines over CONF_MAX_LINE, and the sample is installed as ims.conf). */
static void put_comment(FILE *f, const char *text)
{
	while (*text) {
		size_t n = strlen(text), cut = n;

		if (n > 76) {
			cut = 76;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0) /* one long word: break it */
				cut = 76;
		}
		fprintf(f, "# %.*s\n", (int)cut, text);
		text += cut;
		while (*text == ' ')
			text++;
	}
}

void ims_conf_write_sample(FILE *f, bool portable)
{
	fputs("# ims.conf: configuration of ims-milter, ims-webapi and ims.\n"
	      "# Every key is shown with its default; see ims.conf(5) and docs/configuration.md.\n"
	      "# Unknown sections or keys and bad values are errors.\n",
	      f);
	for (size_t s = 0; s < sizeof known_sections / sizeof known_sections[0]; s++) {
		const char *sec = known_sections[s];
		fputc('\n', f);
		put_comment(f, section_doc(sec));
		fprintf(f, "[%s]\n", sec);
		if (strcmp(sec, "scores") == 0) {
			for (int i = 0; ims_symbols[i].name; i++) {
				put_comment(f, ims_symbols[i].doc);
				fprintf(f, ";%s = %g\n", ims_symbols[i].name,
				        ims_symbols[i].weight);
			}
			continue;
		}
		for (size_t i = 0; i < CONF_NKEYS; i++) {
			const struct conf_key *k = &conf_table[i];
			if (strcmp(k->section, sec) != 0)
				continue;
			char doc[1024];
			snprintf(doc, sizeof doc, "%s%s%s%s", k->doc, k->type == T_ENUM ? " (" : "",
			         k->type == T_ENUM ? k->choices : "", k->type == T_ENUM ? ")" : "");
			put_comment(f, doc);
			fprintf(f, ";%s = ", k->name);
			put_default(f, k->def, portable);
			fputc('\n', f);
		}
	}
}

void ims_conf_write_reference(FILE *f, bool portable)
{
	fputs("# Configuration reference\n\n"
	      "All ims programs read one INI file, `/etc/ims/ims.conf` by default, or the file\n"
	      "given with `-c FILE`. Lines are `key = value` under a `[section]`; `;` and `#`\n"
	      "start comments. Unknown sections, unknown keys and bad values are errors that\n"
	      "name the file, the line and the key; the program then refuses to start (a\n"
	      "running ims-milter told to reload (SIGUSR1) keeps its old configuration).\n\n"
	      "Sizes take an optional `k`, `M` or `G` suffix (powers of 1024). Lists are\n"
	      "comma-separated; a list key given again adds to the list, so a long list can\n"
	      "take several lines (a line may hold at most 197 characters).\n\n"
	      "Values are checked beyond their type when a program starts or reloads, and by\n"
	      "`ims config check`: networks are CIDRs without host bits, addresses are IP\n"
	      "addresses with a port where one is needed, socket specs are what libmilter takes,\n"
	      "`[milter] user` must exist, domains are domain names, paths are absolute, DNS list\n"
	      "rules (`[dnsbl]`) name a zone, an answer code, a symbol of their own and a weight,\n"
	      "and the enabled `[actions]` thresholds rise from tag to quarantine to reject.\n\n"
	      "This page is generated from the table in `lib/conf.c`\n"
	      "(`tools/ims-conf-doc --reference`); `etc/ims.conf.sample` comes from the same "
	      "table.\n",
	      f);
	for (size_t s = 0; s < sizeof known_sections / sizeof known_sections[0]; s++) {
		const char *sec = known_sections[s];
		fprintf(f, "\n## [%s]\n\n%s\n\n", sec, section_doc(sec));
		if (strcmp(sec, "scores") == 0) {
			fputs("| symbol | default weight | meaning |\n|---|---|---|\n", f);
			for (int i = 0; ims_symbols[i].name; i++)
				fprintf(f, "| `%s` | %g | %s |\n", ims_symbols[i].name,
				        ims_symbols[i].weight, ims_symbols[i].doc);
			continue;
		}
		fputs("| key | type | default | meaning |\n|---|---|---|---|\n", f);
		for (size_t i = 0; i < CONF_NKEYS; i++) {
			const struct conf_key *k = &conf_table[i];
			if (strcmp(k->section, sec) != 0)
				continue;
			fprintf(f, "| `%s` | %s", k->name, type_name(k));
			if (k->type == T_ENUM)
				fprintf(f, " `%s`", k->choices);
			if (k->type == T_INT || (k->type == T_DOUBLE && k->max > k->min))
				fprintf(f, " %g..%g", k->min, k->max);
			fputs(" | `", f);
			put_default(f, k->def, portable);
			fprintf(f, "` | %s |\n", k->doc);
		}
	}
}

/* roff needs backslashes doubled and a leading dot or quote escaped. */
static void man_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

void ims_conf_write_man(FILE *f)
{
	fputs(
	    ".TH IMS.CONF 5 \"" PACKAGE_VERSION "\" \"ims\" \"File Formats\"\n"
	    ".SH NAME\nims.conf \\- configuration of ims\\-milter, ims\\-webapi and ims\n"
	    ".SH DESCRIPTION\n"
	    "All ims programs read one INI file, \\fI/etc/ims/ims.conf\\fR by default, or the file "
	    "given with \\fB\\-c\\fR \\fIFILE\\fR. Lines are \\fIkey\\fR = \\fIvalue\\fR under a "
	    "[\\fIsection\\fR]; lines starting with ; or # are comments. Unknown sections, unknown "
	    "keys and bad values are errors that name the file, the line and the key.\n"
	    ".PP\nSizes take an optional k, M or G suffix (powers of 1024). Lists are "
	    "comma\\-separated; a list key given again adds to the list, so a long list can "
	    "take several lines (a line may hold at most 197 characters). ims-milter sent SIGUSR1 "
	    "reads the file again and keeps its old "
	    "configuration when the new one is bad.\n"
	    ".PP\nValues are checked beyond their type at start, at reload and by "
	    "\\fBims config check\\fR: networks are CIDRs without host bits, addresses are IP "
	    "addresses with a port where one is needed, socket specs are what libmilter takes, "
	    "the milter user must exist, domains are domain names, paths are absolute, DNS list "
	    "rules ([dnsbl]) name a zone, an answer code, a symbol of their own and a weight, and "
	    "the "
	    "enabled [actions] thresholds rise from tag to quarantine to reject.\n",
	    f);
	for (size_t s = 0; s < sizeof known_sections / sizeof known_sections[0]; s++) {
		const char *sec = known_sections[s];
		fprintf(f, ".SH [%s]\n", sec);
		man_text(f, section_doc(sec));
		fputc('\n', f);
		if (strcmp(sec, "scores") == 0) {
			for (int i = 0; ims_symbols[i].name; i++) {
				fprintf(f, ".TP\n.B %s\n", ims_symbols[i].name);
				man_text(f, ims_symbols[i].doc);
				fprintf(f, " (default %g)\n", ims_symbols[i].weight);
			}
			continue;
		}
		for (size_t i = 0; i < CONF_NKEYS; i++) {
			const struct conf_key *k = &conf_table[i];
			if (strcmp(k->section, sec) != 0)
				continue;
			fprintf(f, ".TP\n.BR %s \" (%s", k->name, type_name(k));
			if (k->type == T_ENUM) {
				fputc(' ', f);
				man_text(f, k->choices);
			}
			fputs("; default: ", f);
			if (k->type == T_LIST && strchr(k->def, ',')) {
				/* a space after each comma: troff may break a long list there */
				for (const char *p = k->def; *p;) {
					size_t n = strcspn(p, ",");
					char item[256];

					snprintf(item, sizeof item, "%.*s", (int)n, p);
					man_text(f, item);
					p += n;
					if (*p == ',') {
						fputs(", ", f);
						p++;
					}
				}
			} else {
				man_text(f, *k->def ? k->def : "empty");
			}
			fputs(")\"\n", f);
			man_text(f, k->doc);
			fputc('\n', f);
		}
	}
	fputs(".SH FILES\n/etc/ims/ims.conf\n.SH SEE ALSO\n"
	      ".BR ims (1),\n.BR ims\\-milter (8),\n.BR ims\\-webapi (8)\n",
	      f);
}
