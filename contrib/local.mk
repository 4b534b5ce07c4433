# contrib/: scripts and files for operators; shipped in the tarball, not built.
EXTRA_DIST += contrib/install-deps.sh contrib/run-tests.sh contrib/quickstart.sh contrib/ims-stack.py \
	contrib/systemd/ims-milter.service contrib/systemd/ims-webapi.service \
	contrib/systemd/ims-quarantine-digest.service contrib/systemd/ims-quarantine-digest.timer \
	contrib/logrotate/ims
