#!/usr/bin/python3
"""Runs the RFC 7208 (OpenSPF 2014.04) test suite through ims_spf_check.

For each of the suite's sections, the section's zonedata is served by a
real nsd on loopback (tests/harness/dns.py), and every scenario of the
section goes through tests/conformance/spf_driver (ims_dns + ims_spf).

Zone data follows pyspf's test driver (testspf.py), which wrote the suite:
  * records typed SPF are served as TXT, unless the name has TXT entries of
    its own ("TXT: NONE" means: no TXT records at all);
  * TIMEOUT: a query of a type that has no record listed before TIMEOUT
    times out.  We serve SERVFAIL for the whole name when no record precedes
    TIMEOUT; when records precede it, they are served and other types get
    NODATA instead of a timeout (no scenario depends on that difference).
  * a TXT record with no strings at all cannot be written in a zone file
    and is left out.

usage: spf-suite.py --driver PATH --suite YAML [--min N] [--verbose] [--markdown]
Exit 0 when at least N scenarios pass (N = every scenario by default).
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import dns  # noqa: E402  (tests/harness/dns.py)

try:
    import yaml
except ImportError:
    sys.stderr.write("SKIP: python3-yaml is not installed\n")
    sys.exit(77)


def convert(entries):
    """One zonedata name's entries -> harness records (pyspf semantics)."""
    gen, txt, out = True, [], []
    for m in entries:
        if m == "TIMEOUT":
            out.append(("TIMEOUT", None))
            continue
        for t, v in m.items():
            if t == "TXT":
                gen = False
            elif t == "SPF" and gen:
                txt.append(("TXT", v))
            if v == "NONE" or t == "SPF":
                continue
            out.append((t, v))
    if gen:
        out += txt
    out = [(t, v) for t, v in out if not (t == "TXT" and isinstance(v, list) and not v)]
    if ("TIMEOUT", None) in out:
        i = out.index(("TIMEOUT", None))
        out = out[:i] if i > 0 else [("TIMEOUT", None)]
    return out


def expected_of(test):
    r = test["result"]
    return [r] if isinstance(r, str) else list(r)


def run_section(driver, index, section, verbose):
    records = {name: convert(entries) for name, entries in section.get("zonedata", {}).items()}
    names = list(section["tests"])
    results = {}
    srv = dns.DnsServer(records)
    try:
        srv.start()
    except RuntimeError as e:
        for n in names:
            results[n] = ("error", "DNS server: %s" % e)
        return results
    try:
        lines = []
        for n in names:
            t = section["tests"][n]
            lines.append("%s\t%s\t%s\t%s" % (n, t.get("host", ""), t.get("helo", ""),
                                             t.get("mailfrom", "")))
        p = subprocess.run([driver, "127.0.0.1:%d" % srv.port], input="\n".join(lines) + "\n",
                           capture_output=True, text=True, timeout=120,
                           encoding="latin-1")
        for line in p.stdout.splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                results[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
        if p.returncode != 0 or p.stderr.strip():
            sys.stderr.write(p.stderr)
    finally:
        srv.stop()
    for n in names:
        results.setdefault(n, ("error", "no output from the driver"))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--suite", required=True)
    ap.add_argument("--min", type=int, default=None)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--markdown", action="store_true", help="print failures as a table")
    a = ap.parse_args()
    if not os.path.exists(a.suite):
        print("SKIP: suite not found: %s" % a.suite)
        return 77
    with open(a.suite, encoding="utf-8") as f:
        sections = [s for s in yaml.safe_load_all(f) if s]
    t0 = time.time()
    total = passed = 0
    failures = []
    for i, sec in enumerate(sections):
        res = run_section(a.driver, i, sec, a.verbose)
        sp = 0
        for name, test in sec["tests"].items():
            got, reason = res[name]
            exp = expected_of(test)
            total += 1
            if got in exp:
                passed += 1
                sp += 1
                if a.verbose:
                    print("PASS %s / %s: %s" % (sec["description"], name, got))
            else:
                failures.append((sec["description"], name, got, exp, reason,
                                 test.get("spec", "")))
                print("FAIL %s / %s: got %s, expected %s (%s)" %
                      (sec["description"], name, got, " or ".join(exp), reason))
        print("section %2d %-45s %3d/%3d" % (i + 1, sec["description"][:45], sp,
                                            len(sec["tests"])))
    took = time.time() - t0
    print("spf-suite: %d/%d scenarios pass (%d sections, %.1f s)" %
          (passed, total, len(sections), took))
    if a.markdown:
        print("\n| section | scenario | spec | expected | ims | libspf2's reason |")
        print("|---|---|---|---|---|---|")
        for sec, name, got, exp, reason, spec in failures:
            print("| %s | %s | %s | %s | %s | %s |" % (sec, name, spec, " or ".join(exp), got,
                                                     reason.replace("|", "\\|")))
    need = total if a.min is None else a.min
    if passed < need:
        print("spf-suite: FAIL: %d passes, at least %d required" % (passed, need))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
