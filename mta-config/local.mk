# mta-config: see ../Makefile.am
# Postfix and Sendmail fragments for ims-milter (see docs/milter.md)
EXTRA_DIST += mta-config/postfix-main.cf mta-config/postfix-master.cf mta-config/sendmail-ims.mc
