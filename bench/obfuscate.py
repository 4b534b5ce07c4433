#!/usr/bin/python3
"""Obfuscated copies of messages, the way spammers hide words from filters.

For every message file in the input folders, writes one copy per method to
OUT/METHOD/<name> (the method's folder is created):

  zw         a zero-width space (U+200B) inside words
  shy        a soft hyphen (U+00AD) inside words
  lookalike  one or two Latin letters of a word replaced by the Cyrillic or
             Greek letter that looks the same (a -> U+0430, o -> U+03BF, ...)
  fullwidth  words written in full-width letters (U+FF21...), which NFKC maps
             back
  mixed      each chosen word gets one of the four above
  forward    the whole message attached, unchanged, as message/rfc822 to a
             short new message ("Fwd: message", a line of text)

The word methods change about one word in three (--rate) of 4 or more ASCII letters
in the Subject and in every text/plain and text/html part (text between
tags only), re-encoded as UTF-8 base64.  Deterministic (--seed).  Use it
on the corpus's TRAINING part only (for figures: bench/classifier.sh runs it
on the newer half of the time split, bench/time-split.py); never on the
test part.

usage: bench/obfuscate.py -o OUT [--methods zw,shy,...] [--seed N] [--rate R] DIR...
"""
import argparse
import base64
import email
import email.header
import email.policy
import os
import random
import re
import sys
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

LOOK = {'a': '\u0430', 'e': '\u0435', 'o': '\u043e', 'p': '\u0440', 'c': '\u0441',
        'x': '\u0445', 'y': '\u0443', 'i': '\u0456', 'A': '\u0410', 'B': '\u0412',
        'E': '\u0415', 'K': '\u041a', 'M': '\u041c', 'H': '\u041d', 'O': '\u039f',
        'P': '\u0420', 'C': '\u0421', 'T': '\u0422', 'X': '\u0425', 'v': '\u03bd'}
WORD = re.compile(r'\b[A-Za-z]{4,}\b')
WORD_METHODS = ('zw', 'shy', 'lookalike', 'fullwidth')
METHODS = WORD_METHODS + ('mixed', 'forward')


def obfuscate_word(w, method, rnd):
    if method == 'mixed':
        method = rnd.choice(WORD_METHODS)
    if method in ('zw', 'shy'):
        k = rnd.randrange(1, len(w))
        return w[:k] + ('\u200b' if method == 'zw' else '\u00ad') + w[k:]
    if method == 'lookalike':
        idx = [i for i, ch in enumerate(w) if ch in LOOK]
        if not idx:
            return w
        chars = list(w)
        for i in rnd.sample(idx, min(len(idx), 2)):
            chars[i] = LOOK[chars[i]]
        return ''.join(chars)
    if method == 'fullwidth':
        return ''.join(chr(ord(ch) - 0x21 + 0xFF01) for ch in w)
    raise ValueError(method)


RATE = 1 / 3


def obfuscate_text(text, method, rnd, html=False):
    def sub(m):
        return obfuscate_word(m.group(0), method, rnd) if rnd.random() < RATE else m.group(0)

    if not html:
        return WORD.sub(sub, text)
    # text between tags only; leave entities (&nbsp;) and tags alone
    return re.sub(r'>([^<]+)<', lambda m: '>' + WORD.sub(sub, m.group(1)) + '<', text)


def part_text(part):
    data = part.get_payload(decode=True) or b''
    cs = part.get_content_charset() or 'latin-1'
    try:
        return data.decode(cs)
    except (LookupError, UnicodeDecodeError):
        return data.decode('latin-1')


def set_text(part, text):
    part.set_payload(base64.encodebytes(text.encode('utf-8')).decode('ascii'))
    del part['Content-Transfer-Encoding']
    part['Content-Transfer-Encoding'] = 'base64'
    if part.get('Content-Type'):
        part.set_param('charset', 'utf-8')
    else:
        part['Content-Type'] = 'text/plain; charset=utf-8'


def obfuscate_message(raw, method, rnd):
    if method == 'forward':
        inner = email.message_from_bytes(raw, policy=email.policy.compat32)
        outer = MIMEMultipart()
        outer['From'] = 'Pat Forwarder <pat@example.org>'
        outer['To'] = 'someone@example.net'
        outer['Subject'] = 'Fwd: message'
        outer.attach(MIMEText('See the message below.\n'))
        outer.attach(MIMEMessage(inner))
        return outer.as_bytes(policy=email.policy.compat32)
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    subj = msg.get('Subject')
    if subj is not None:
        try:
            s = str(email.header.make_header(email.header.decode_header(subj)))
        except (LookupError, UnicodeDecodeError, email.errors.HeaderParseError):
            s = str(subj)
        del msg['Subject']
        msg['Subject'] = email.header.Header(obfuscate_text(s, method, rnd), 'utf-8').encode()
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype not in ('text/plain', 'text/html'):
            continue
        if (part.get('Content-Disposition') or '').lower().startswith('attachment'):
            continue
        if part is not msg and part.get_content_maintype() == 'message':
            continue
        set_text(part, obfuscate_text(part_text(part), method, rnd, ctype == 'text/html'))
    try:
        return msg.as_bytes(policy=email.policy.compat32)
    except (UnicodeEncodeError, LookupError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('-o', '--out', required=True)
    ap.add_argument('--methods', default=','.join(METHODS))
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--rate', type=float, default=1 / 3, help='share of words changed')
    ap.add_argument('dirs', nargs='+')
    a = ap.parse_args()
    global RATE
    RATE = a.rate
    methods = a.methods.split(',')
    for m in methods:
        if m not in METHODS:
            sys.exit('obfuscate: unknown method %r (%s)' % (m, ', '.join(METHODS)))
    counts = dict.fromkeys(methods, 0)
    for m in methods:
        os.makedirs(os.path.join(a.out, m), exist_ok=True)
    for d in a.dirs:
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if not os.path.isfile(path):
                continue
            with open(path, 'rb') as f:
                raw = f.read()
            for m in methods:
                rnd = random.Random('%d:%s:%s' % (a.seed, m, name))
                out = obfuscate_message(raw, m, rnd)
                if out is None:
                    continue
                with open(os.path.join(a.out, m, name), 'wb') as f:
                    f.write(out)
                counts[m] += 1
    print(' '.join('%s=%d' % kv for kv in counts.items()))


if __name__ == '__main__':
    main()
