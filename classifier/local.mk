# classifier/: message -> features -> linear SVM (see docs/classifier.md).
noinst_LIBRARIES += classifier/libimsclassifier.a
classifier_libimsclassifier_a_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS)
classifier_libimsclassifier_a_SOURCES = \
	classifier/message.c classifier/message.h \
	classifier/mimeparse.c classifier/mimeparse.h \
	classifier/html.c classifier/html.h \
	classifier/featurize.c classifier/featurize.h \
	classifier/normalize.c classifier/normalize.h \
	classifier/model.c classifier/model.h \
	classifier/classify.c classifier/classify.h \
	classifier/metrics.c classifier/metrics.h \
	classifier/train.c classifier/train.h

EXTRA_DIST += docs/classifier.md docs/benchmarks.md contrib/fetch-corpus.sh bench/classifier.sh bench/classifier-html.c bench/time-split.py bench/obfuscate.py \
	bench/mime-nesting.sh bench/mime-nesting.c \
	contrib/samples/ham.eml contrib/samples/spam.eml

# The default model: `make model` fetches the SpamAssassin corpus (network,
# once; contrib/fetch-corpus.sh) and trains on its training part.  Plain
# `make` never needs the network.  `make install` installs model.ims to
# $(modeldir) when it has been built.
IMS_CORPUS_DIR = $(abs_top_srcdir)/data/corpus
model: model.ims
model.ims: cli/ims
	$(SHELL) $(top_srcdir)/contrib/fetch-corpus.sh -o $(IMS_CORPUS_DIR)
	./cli/ims -c /dev/null train --ham $(IMS_CORPUS_DIR)/train/ham \
		--spam $(IMS_CORPUS_DIR)/train/spam -o $@
.PHONY: model

install-data-local: install-model
install-model:
	@if test -f model.ims; then \
		$(MKDIR_P) '$(DESTDIR)$(modeldir)' && \
		echo " $(INSTALL_DATA) model.ims '$(DESTDIR)$(modeldir)/model.ims'" && \
		$(INSTALL_DATA) model.ims '$(DESTDIR)$(modeldir)/model.ims'; \
	else echo "note: no model.ims in the build dir (run 'make model'); none installed"; fi
uninstall-local: uninstall-model
uninstall-model:
	rm -f '$(DESTDIR)$(modeldir)/model.ims'
.PHONY: install-model uninstall-model
CLEANFILES += model.ims.tmp
