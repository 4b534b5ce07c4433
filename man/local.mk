# man: see ../Makefile.am
# ims.conf(5) is generated from the table in lib/conf.c, like the sample config.
man_MANS = man/ims.conf.5
CLEANFILES += man/ims.conf.5
man/ims.conf.5: tools/ims-conf-doc$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) man && tools/ims-conf-doc --man > $@
dist_man_MANS += man/ims.1
dist_man_MANS += man/ims-milter.8
dist_man_MANS += man/ims-webapi.8
dist_man_MANS += man/ims-checkpassword.8
