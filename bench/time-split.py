#!/usr/bin/python3
"""Time-ordered validation set, built from the corpus's TRAINING part only.

Every message of CORPUS/train/{ham,spam} is dated by its top Received
header (the time the receiving site saw it; the Date header when there is
none).  Messages older than the cutoff go to OUT/fit/{ham,spam}, the newer
ones to OUT/validate/{ham,spam} (symlinks).  The default cutoff is the
median date of the training part, 2002-08-22, which is also where the
corpus's groups part: easy-ham-2 and spam-2 (and most of hard-ham-1) are
older, easy-ham-1 and spam-1 newer; the group numbers are release numbers,
not time (spam-2's median is July 2002, spam-1's September 2002).
The test part (md5 c-f) is never read.

usage: bench/time-split.py [-c CORPUS] -o OUT [--cutoff YYYY-MM-DD]
Prints one JSON line: cutoff and counts per side, class and group.
"""
import argparse
import collections
import datetime
import email.utils
import json
import os
import re
import sys


def msg_date(path):
    with open(path, 'rb') as f:
        raw = f.read(65536).decode('latin-1')
    hdr = re.split(r'\r?\n\r?\n', raw, maxsplit=1)[0]
    for m in re.finditer(r'^Received:(.*(?:\r?\n[ \t].*)*)', hdr, re.M | re.I):
        try:
            t = email.utils.parsedate_to_datetime(m.group(1).split(';')[-1].strip())
        except (TypeError, ValueError, IndexError):
            continue
        break
    else:
        m = re.search(r'^Date:(.*)', hdr, re.M | re.I)
        try:
            t = email.utils.parsedate_to_datetime(m.group(1).strip()) if m else None
        except (TypeError, ValueError, IndexError):
            t = None
    if t is not None and t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return t


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('-c', '--corpus', default=os.environ.get('IMS_CORPUS_DIR',
                                                             os.path.join(here, 'data/corpus')))
    ap.add_argument('-o', '--out', required=True)
    ap.add_argument('--cutoff', help='YYYY-MM-DD (default: the median date)')
    a = ap.parse_args()
    rows = []
    for cls in ('ham', 'spam'):
        d = os.path.join(a.corpus, 'train', cls)
        for f in sorted(os.listdir(d)):
            if f.endswith('.txt'):
                rows.append((msg_date(os.path.join(d, f)), cls, f))
    dated = sorted(r for r in rows if r[0] is not None)
    if not dated:
        sys.exit('time-split: no dated messages in %s/train' % a.corpus)
    if a.cutoff:
        cut = datetime.datetime.strptime(a.cutoff, '%Y-%m-%d').replace(
            tzinfo=datetime.timezone.utc)
    else:
        cut = dated[len(dated) // 2][0].replace(hour=0, minute=0, second=0, microsecond=0)
    counts = collections.Counter()
    for side in ('fit', 'validate'):
        for cls in ('ham', 'spam'):
            p = os.path.join(a.out, side, cls)
            os.makedirs(p, exist_ok=True)
            for f in os.listdir(p):
                os.unlink(os.path.join(p, f))
    for t, cls, f in rows:
        side = 'fit' if t is not None and t < cut else 'validate'
        group = re.sub(r'-\d+\..*', '', f)
        os.symlink(os.path.abspath(os.path.join(a.corpus, 'train', cls, f)),
                   os.path.join(a.out, side, cls, f))
        counts['%s/%s' % (side, cls)] += 1
        counts['%s/%s' % (side, group)] += 1
    print(json.dumps({'what': 'time-split', 'cutoff': cut.date().isoformat(),
                      'undated': len(rows) - len(dated), **dict(sorted(counts.items()))}))


if __name__ == '__main__':
    main()
