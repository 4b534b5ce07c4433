# mta-config: see ../Makefile.am
# Postfix and Sendmail fragments for ims-milter (see docs/milter.md)
EXTRA_DIST += mta-config/postfix-main.cf mta-config/postfix-master.cf mta-config/sendmail-ims.mc \
	mta-config/postfix-sender-login.regexp
# Dovecot: IMAP/LMTP and auth on the ims user registry (tests/webapi/test_dovecot.py)
EXTRA_DIST += mta-config/dovecot/10-ims.conf mta-config/dovecot/dict-ims.conf.ext \
	mta-config/dovecot/ims-junk.sieve
# Dovecot on a registry in a Redis Cluster: ims-checkpassword instead of dict-redis
EXTRA_DIST += mta-config/dovecot/auth-ims-checkpassword.conf.ext
# Dovecot: IMAPSieve feedback on moves into and out of Junk (tests/cli/test_feedback_imap.py)
EXTRA_DIST += mta-config/dovecot/20-ims-imapsieve.conf mta-config/dovecot/ims-report-spam.sieve \
	mta-config/dovecot/ims-report-ham.sieve mta-config/dovecot/ims-feedback \
	mta-config/dovecot/feedback.conf
