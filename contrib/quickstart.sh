#!/bin/sh
# Command 1 of the README: install what is needed, build, train the default
# model, and bring the whole stack up on loopback in a private folder (./run,
# or $IMS_RUN_DIR), then show it working: mail through Postfix and the milter,
# IMAP through Dovecot, the web API.
#
#   contrib/quickstart.sh          # install, build, train, start, demo
#   contrib/quickstart.sh stop     # stop what it started (by PID)
#   contrib/quickstart.sh status
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
run=${IMS_RUN_DIR:-$top/run}
build=$top/build

case "${1:-up}" in
stop | down) exec "$top/contrib/ims-stack.py" down --dir "$run" ;;
status) exec "$top/contrib/ims-stack.py" status --dir "$run" ;;
up) ;;
*) echo "usage: $0 [up|stop|status]" >&2; exit 2 ;;
esac

echo "== installing Debian packages"
"$top/contrib/install-deps.sh"
echo "== building"
cd "$top"
autoreconf -fi >/dev/null 2>&1
mkdir -p "$build" && cd "$build"
# a build dir configured another way (e.g. with sanitizers) is cleaned and reconfigured
if [ ! -f .quickstart-configured ] || [ "$top/configure" -nt .quickstart-configured ]; then
	[ -f Makefile ] && make -s clean >/dev/null 2>&1 || true
	"$top/configure" -q
	touch .quickstart-configured
fi
make -s -j2
echo "== fetching the corpus and training the default model"
make -s model
"$build/cli/ims" -c /dev/null --model "$build/model.ims" classify \
	"$top/contrib/samples/ham.eml" "$top/contrib/samples/spam.eml"
echo "== starting the stack in $run"
# a fresh start each time: stop an earlier stack and drop its data
if [ -d "$run/pids" ]; then
	"$top/contrib/ims-stack.py" down --dir "$run" >/dev/null
fi
# (only a folder the stack made: it holds ports.json)
if [ -f "$run/ports.json" ]; then rm -rf "$run"; fi
exec "$top/contrib/ims-stack.py" up --dir "$run" --build "$build"
