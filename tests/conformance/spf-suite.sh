#!/bin/sh
# The RFC 7208 SPF test suite through ims_spf_check (see docs/conformance.md).
# Fails when fewer scenarios pass than the number documented there, so a
# regression shows; raise MIN when a fix makes more pass.
MIN=163
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
suite=${IMS_SPF_SUITE:-$top_srcdir/../shared/conformance/spf/rfc7208-tests.yml}
if [ ! -x /usr/sbin/nsd ]; then echo "SKIP: nsd is not installed"; exit 77; fi
if [ ! -f "$suite" ]; then echo "SKIP: suite not found: $suite"; exit 77; fi
exec /usr/bin/python3 "$top_srcdir/tests/conformance/spf-suite.py" \
	--driver "$top_builddir/tests/conformance/spf_driver" --suite "$suite" --min "$MIN"
