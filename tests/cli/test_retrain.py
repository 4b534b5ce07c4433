#!/usr/bin/python3
"""`ims retrain` with the real parts: a redis-server holds users' feedback
(recorded with `ims feedback learn`, the command IMAPSieve runs) and the
event stream, and a running ims-webapi shows which model it uses.

A candidate trained with honest feedback is not worse on the held-out
messages: it is installed (by rename, the old file kept as .prev), the web
API uses it within seconds without a restart, and an audit event says so.
Then spammers report their own spam as "not spam" from many accounts
(flipped labels): the candidate is worse on the held-out corpus messages,
is refused, the installed model stays, and an audit event says why.

The corpus is generated here (two vocabularies and shared words), so the
test needs no download and never touches the SpamAssassin test part."""
import fcntl
import json
import os
import random
import subprocess
import sys
import time

from harness import common, redis
from harness.webapi import WebAPI

common.integration("redis-server", "redis-cli")
IMS = os.path.join(common.builddir(), "cli", "ims")
failures = []

SHARED = ("the and for with this that from your have will about today please time "
          "people work new more when what there their been would could should other "
          "some into only over also after first well year just like know take come "
          "think look want give use find tell ask seem feel try leave call good").split()
HAM_WORDS = ("meeting agenda review schedule project budget draft minutes quarterly "
             "report colleague thursday notes design storage schema benchmark kernel "
             "patch release build compiler library function variable thread deadline "
             "conference slides lunch family weekend garden recipe holiday photos").split()
SPAM_WORDS = ("winner prize claim free offer viagra pills cheap discount casino lottery "
              "credit loan mortgage refinance guaranteed income investment bitcoin urgent "
              "unsubscribe limited exclusive bonus cash million dollars inheritance "
              "pharmacy rolex replica weight supplement").split()


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def message(rng, spam, n):
    words = SPAM_WORDS if spam else HAM_WORDS
    body = [rng.choice(words) for _ in range(14)] + [rng.choice(SHARED) for _ in range(26)]
    rng.shuffle(body)
    subj = " ".join(rng.choice(words) for _ in range(3))
    sender = f"{'promo' if spam else 'colleague'}{n}@{'deals' if spam else 'work'}.example"
    return (f"From: {sender}\r\nTo: someone@example.test\r\nSubject: {subj}\r\n"
            f"Message-ID: <{n}.{int(spam)}@gen.example>\r\nDate: Mon, 1 Jun 2026 10:00:00 +0000\r\n"
            f"\r\n" + " ".join(body) + "\r\n").encode()


def learn(conf, user, label, raw):
    p = subprocess.run([IMS, "-c", conf, "feedback", "learn", f"--{label}", "--user", user],
                       input=raw, capture_output=True)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode().split()[0]


def retrain_raw(conf, corpus):
    return subprocess.run([IMS, "-c", conf, "retrain", "-q", "--folds", "3",
                           "--ham", os.path.join(corpus, "ham"),
                           "--spam", os.path.join(corpus, "spam")], capture_output=True, text=True)


def retrain(conf, corpus):
    p = retrain_raw(conf, corpus)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)




def last_event(r):
    text = r.cli("XREVRANGE", "ims:{global}:events", "+", "-", "COUNT", "1").split("\n")
    return dict(zip(text[1::2], text[2::2]))


def main():
    rng = random.Random(9)
    tmp = common.TempDir()
    r = redis.server(tmp).start()
    api = None
    try:
        corpus = tmp.join("corpus")
        for label in ("ham", "spam"):
            os.makedirs(os.path.join(corpus, label))
            for i in range(150):
                with open(os.path.join(corpus, label, f"{i:05d}.eml"), "wb") as f:
                    f.write(message(rng, label == "spam", i))
        model = tmp.join("model.ims")
        conf = tmp.join("ims.conf")
        with open(conf, "w") as f:
            f.write(r.conf_section() + f"[classifier]\nmodel = {model}\n"
                    "[feedback]\nrate_per_hour = 1000\n")
        # the installed model, as `make model` makes one: trained on the whole corpus
        p = subprocess.run([IMS, "-c", conf, "train", "-q", "--folds", "3",
                            "--ham", os.path.join(corpus, "ham"),
                            "--spam", os.path.join(corpus, "spam"), "-o", model],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        api = WebAPI(tmp, r, extra={"classifier.model": model}).start()
        v0 = api.request("GET", "/health").json()["model_version"]

        # honest feedback from users: new messages, right labels
        for i in range(40):
            spam = i % 2 == 0
            learn(conf, f"user{i % 4}@example.test", "spam" if spam else "ham",
                  message(rng, spam, 1000 + i))
        res = retrain(conf, corpus)
        check(res["result"] == "installed" and res["baseline"] == "reference",
              f"a candidate with honest feedback is not worse and is installed "
              f"({res['result']}: {res['reason']}; {res['candidate']} vs {res['baseline_figures']})")
        check(res["heldout"]["corpus"] > 30 and res["heldout"]["feedback"] > 0
              and res["training"]["feedback_ham"] + res["training"]["feedback_spam"] > 20,
              f"trained on the corpus share plus feedback, measured on both held-out shares "
              f"({res['heldout']}, {res['training']})")
        pc, fc, fb = (res["paired"]["corpus"], res["candidate"]["corpus"],
                      res["baseline_figures"]["corpus"])
        check(res["z"] == 1.645 and res["tolerance"] == 0
              and pc["errors_worse"] - pc["errors_better"]
              == fc["false_positives"] + fc["false_negatives"]
              - fb["false_positives"] - fb["false_negatives"]
              and pc["false_positives_worse"] - pc["false_positives_better"]
              == fc["false_positives"] - fb["false_positives"],
              f"the paired counts of the decision agree with the figures ({res['paired']})")
        v1 = res["candidate_version"]
        check(v1 != v0 and os.path.exists(model + ".prev"),
              "the model file was replaced and the old one kept as .prev")
        seen, deadline = None, time.time() + 15
        while time.time() < deadline:
            seen = api.request("GET", "/health").json()["model_version"]
            if seen == v1:
                break
            time.sleep(0.3)
        check(seen == v1, f"ims-webapi uses the new model without a restart ({v0} -> {seen})")
        ev = last_event(r)
        check(ev.get("type") == "admin" and ev.get("op") == "model.retrain"
              and ev.get("result") == "installed" and ev.get("candidate") == v1
              and ev.get("target") == model and ev.get("actor", "").startswith("cli:"),
              f"an audit event records the swap ({ev})")

        # poisoned feedback: spam reported as ham from many accounts
        for i in range(300):
            learn(conf, f"spammer{i % 10}@example.test", "ham", message(rng, True, 2000 + i))
        res = retrain(conf, corpus)
        check(res["result"] == "kept" and res["baseline"] == "current"
              and "corpus" in res["reason"],
              f"a candidate trained on flipped labels is worse and refused "
              f"({res['result']}: {res['reason']}; corpus {res['candidate']['corpus']} vs "
              f"{res['baseline_figures']['corpus']})")
        pc = res["paired"]["corpus"]
        d = pc["errors_worse"] - pc["errors_better"]
        check(d > 1.645 * (pc["errors_worse"] + pc["errors_better"]) ** 0.5,
              f"refused because its extra errors are more than chance explains ({pc})")
        time.sleep(2.5)
        check(api.request("GET", "/health").json()["model_version"] == v1,
              "the installed model stays in use")
        ev = last_event(r)
        check(ev.get("op") == "model.retrain" and ev.get("result") == "kept"
              and ev.get("reason") == res["reason"] and ev.get("current") == v1,
              f"an audit event records the refusal ({ev})")
        with open(model, "rb") as f:
            head = f.read(4096)
        check(v1.encode() in head, "the model file is the one installed before")

        # one run at a time per model file
        with open(model + ".lock", "w") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            p = retrain_raw(conf, corpus)
        check(p.returncode == 1 and "another ims retrain is running" in p.stderr,
              f"a second run while one holds the lock is refused ({p.stderr.strip()})")
        # Redis down: a clear error before anything is trained or installed
        r.stop()
        p = retrain_raw(conf, corpus)
        with open(model, "rb") as f:
            head = f.read(4096)
        check(p.returncode == 1 and p.stderr.count("\n") == 1 and v1.encode() in head,
              f"Redis down: one error line, the model untouched ({p.stderr.strip()})")
    finally:
        if api:
            api.stop()
        r.stop()
        tmp.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
