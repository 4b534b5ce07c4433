# cli/: the `ims` command.  One file per subcommand; the table is in cli/ims.c.
bin_PROGRAMS += cli/ims
cli_ims_SOURCES = cli/ims.c cli/ims.h cli/util.c \
	cli/cmd_train.c cli/train_feedback.c cli/train_feedback.h cli/cmd_classify.c cli/cmd_eval.c cli/cmd_model.c
cli_ims_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS) -I$(top_srcdir)/cli
cli_ims_LDADD = lib/libimsscan.a classifier/libimsclassifier.a lib/libims.a $(IMS_DEP_LIBS)
# ims user (the user registry, lib/users.h)
cli_ims_SOURCES += cli/cmd_user.c
# ims config check
cli_ims_SOURCES += cli/cmd_config.c
# ims feedback learn (IMAPSieve) and ims retrain (lib/feedback.h)
cli_ims_SOURCES += cli/cmd_feedback.c cli/cmd_retrain.c
EXTRA_DIST += bench/retrain.py
# ims quarantine (lib/quarantine.h); the digest is composed and submitted
# with the web API's own compose.c and smtp.c (GMime, libcurl)
cli_ims_SOURCES += cli/cmd_quarantine.c webapi/compose.c webapi/compose.h webapi/smtp.c \
	webapi/smtp.h
cli_ims_CFLAGS += -I$(top_srcdir)/webapi
cli_ims_LDADD += $(CURL_LIBS)
# ims migrate (drops the mailbox copies older versions kept in Redis)
cli_ims_SOURCES += cli/cmd_migrate.c
# ims events tail|forward (the event stream for a SIEM, lib/siem.h)
cli_ims_SOURCES += cli/cmd_events.c
# ims rescan (post-delivery protection): reads and changes mailboxes through the
# web API's Dovecot client and scans with lib/libimsscan.a (first in cli_ims_LDADD)
EXTRA_DIST += bench/rescan.py
cli_ims_SOURCES += cli/cmd_rescan.c webapi/dovecot.c webapi/dovecot.h webapi/mailbox.c \
	webapi/mailbox.h webapi/imap.c webapi/imap.h
cli_ims_CFLAGS += $(ETPAN_CFLAGS)
cli_ims_LDADD += $(ETPAN_LIBS)
# ims-checkpassword: Dovecot's checkpassword passdb/userdb on the user registry
# (lib/users), for a registry on a Redis Cluster (mta-config/dovecot/auth-ims-checkpassword.conf.ext)
sbin_PROGRAMS += cli/ims-checkpassword
cli_ims_checkpassword_SOURCES = cli/ims-checkpassword.c
cli_ims_checkpassword_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS)
cli_ims_checkpassword_LDADD = lib/libims.a $(IMS_DEP_LIBS)
# its cost per login against Dovecot's dict-redis (docs/benchmarks.md)
EXTRA_DIST += bench/dovecot-auth.py
