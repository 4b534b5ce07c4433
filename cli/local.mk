# cli/: the `ims` command.  One file per subcommand; the table is in cli/ims.c.
bin_PROGRAMS += cli/ims
cli_ims_SOURCES = cli/ims.c cli/ims.h cli/util.c \
	cli/cmd_train.c cli/feedback.c cli/feedback.h cli/cmd_classify.c cli/cmd_eval.c cli/cmd_model.c
cli_ims_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS) -I$(top_srcdir)/cli
cli_ims_LDADD = classifier/libimsclassifier.a lib/libims.a $(IMS_DEP_LIBS)
# ims user (the user registry, lib/users.h)
cli_ims_SOURCES += cli/cmd_user.c
# ims migrate (drops the mailbox copies older versions kept in Redis)
cli_ims_SOURCES += cli/cmd_migrate.c
