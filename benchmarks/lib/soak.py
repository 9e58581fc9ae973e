#!/usr/bin/env python3
"""The ledger run's load and its count (driven by benchmarks/soak.sh).

  soak.py load  --seconds N --run ID --submission PORT --edge PORT --imap PORT --out FILE
  soak.py chaos --seconds N --script SOAK_SH_CHAOS_CMD...   (see soak.sh)
  soak.py count --run ID --ledger FILE --doveadm CMD...

load: submission senders (AUTH as alice, to bob) and port-25 senders (to bob), each message with a unique
Subject and Message-ID "soak-ID-N"; IMAP sessions (login, select, fetch, logout) beside them. Every outcome is
one JSON line in --out: {"kind": "smtp", "id": ..., "outcome": "accepted"|"refused", "reply": ...} or
{"kind": "imap", "outcome": "ok"|"error"|"hung"}.
"""
import argparse
import imaplib
import json
import random
import smtplib
import socket
import subprocess
import sys
import threading
import time

HUNG = 60  # seconds without an answer: the session hangs (every Postern timeout is shorter)


def sender(kind, port, run, deadline, out, lock, counter):
    while time.monotonic() < deadline:
        with lock:
            counter[0] += 1
            n = counter[0]
        mid = "soak-%s-%d" % (run, n)
        msg = ("From: alice@example.test\r\nTo: bob@example.test\r\nSubject: %s\r\nMessage-ID: <%s@soak.test>\r\n"
               "\r\nledger message %s\r\n" % (mid, mid, mid))
        rec = {"kind": "smtp", "via": kind, "id": mid}
        t = time.monotonic()
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=HUNG)
            try:
                s.ehlo("soak.client.test")
                if kind == "submission":
                    s.login("alice@example.test", "alice-pw")
                s.sendmail("alice@example.test", ["bob@example.test"], msg)
                rec.update(outcome="accepted")
            finally:
                try:
                    s.quit()
                except Exception:
                    s.close()
        except smtplib.SMTPResponseException as e:
            rec.update(outcome="refused", reply="%d %s" % (e.smtp_code, e.smtp_error.decode(errors="replace")[:80]))
        except smtplib.SMTPRecipientsRefused as e:
            rec.update(outcome="refused", reply=str(e)[:80])
        except (socket.timeout, TimeoutError) as e:
            rec.update(outcome="refused", hung=True, reply="timeout")
        except (smtplib.SMTPException, OSError) as e:
            rec.update(outcome="refused", reply="%s %s" % (type(e).__name__, str(e)[:60]))
        if "outcome" not in rec:
            rec.update(outcome="refused", reply="?")
        rec["seconds"] = round(time.monotonic() - t, 3)
        with lock:
            out.write(json.dumps(rec) + "\n")
            out.flush()
        if rec["outcome"] == "refused":
            time.sleep(0.2)  # a refused client backs off a little, as an MTA would (much more)


def imap_user(port, deadline, out, lock):
    while time.monotonic() < deadline:
        rec = {"kind": "imap"}
        t = time.monotonic()
        try:
            m = imaplib.IMAP4("127.0.0.1", port, timeout=HUNG)
            m.login("alice@example.test", "alice-pw")
            m.select("INBOX")
            m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            m.logout()
            rec["outcome"] = "ok"
        except (socket.timeout, TimeoutError):
            rec["outcome"] = "hung"
        except Exception as e:
            rec.update(outcome="error", error="%s %s" % (type(e).__name__, str(e)[:60]))
        rec["seconds"] = round(time.monotonic() - t, 3)
        with lock:
            out.write(json.dumps(rec) + "\n")
            out.flush()
        if rec["outcome"] != "ok":
            time.sleep(0.2)


def load(a):
    deadline = time.monotonic() + a.seconds
    lock = threading.Lock()
    counter = [0]
    threads = []
    with open(a.out, "w") as out:
        for _ in range(a.submission_senders):
            threads.append(threading.Thread(target=sender, args=("submission", a.submission, a.run, deadline, out,
                                                                 lock, counter)))
        for _ in range(a.edge_senders):
            threads.append(threading.Thread(target=sender, args=("edge", a.edge, a.run, deadline, out, lock,
                                                                 counter)))
        for _ in range(a.imap_users):
            threads.append(threading.Thread(target=imap_user, args=(a.imap, deadline, out, lock)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def count(a):
    recs = [json.loads(l) for l in open(a.ledger)]
    smtp = [r for r in recs if r["kind"] == "smtp"]
    accepted = {r["id"] for r in smtp if r["outcome"] == "accepted"}
    refused = {r["id"] for r in smtp if r["outcome"] == "refused"}
    wanted = "soak-%s-" % a.run
    deadline = time.monotonic() + a.wait
    seen = {}
    while True:
        r = subprocess.run(a.doveadm + ["fetch", "-u", "bob@example.test", "hdr.subject", "mailbox", "INBOX",
                                        "header", "Subject", wanted], capture_output=True, text=True)
        seen = {}
        for line in r.stdout.splitlines():
            if line.startswith("hdr.subject:"):
                s = line.split(":", 1)[1].strip()
                seen[s] = seen.get(s, 0) + 1
        if accepted <= set(seen) or time.monotonic() > deadline:
            break
        time.sleep(2)
    delivered = len(accepted & set(seen))
    lost = sorted(accepted - set(seen))
    duplicated = sum(1 for s, n in seen.items() if n > 1)
    if duplicated and a.postfix_log:
        # how often each duplicate entered Postfix: once means the copy was made after the proxy (a redelivery)
        log = open(a.postfix_log, errors="replace").read()
        entered = [log.count("message-id=<%s@" % s) for s, n in seen.items() if n > 1]
        print("duplicates that entered Postfix once (a redelivery behind the proxy): %d of %d"
              % (sum(1 for e in entered if e == 1), duplicated))
    refused_delivered = len(refused & set(seen))
    imap = [r for r in recs if r["kind"] == "imap"]
    errors = sum(1 for r in imap if r["outcome"] == "error")
    hung = sum(1 for r in imap if r["outcome"] == "hung") + sum(1 for r in smtp if r.get("hung"))
    replies = {}
    for r in smtp:
        if r["outcome"] == "refused":
            k = r.get("reply", "?")[:40]
            replies[k] = replies.get(k, 0) + 1
    print("refusals: " + "; ".join("%s x%d" % kv for kv in sorted(replies.items(), key=lambda kv: -kv[1])[:8]))
    print("refused but delivered (the 250 was lost on the way back, not the message): %d" % refused_delivered)
    if lost:
        print("lost ids: " + " ".join(lost[:20]))
    print("imap errors seen: " + "; ".join(sorted({r.get("error", "")[:40] for r in imap if r["outcome"] == "error"})[:6]))
    print("ledger: accepted=%d delivered=%d refused=%d lost=%d duplicated=%d"
          % (len(accepted), delivered, len(refused), len(lost), duplicated))
    print("imap: started=%d errors=%d hung=%d" % (len(imap), errors, hung))
    return 0 if not lost and not duplicated and not hung else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    l = sub.add_parser("load")
    l.add_argument("--seconds", type=int, required=True)
    l.add_argument("--run", required=True)
    l.add_argument("--submission", type=int, required=True)
    l.add_argument("--edge", type=int, required=True)
    l.add_argument("--imap", type=int, required=True)
    l.add_argument("--out", required=True)
    l.add_argument("--submission-senders", type=int, default=3)
    l.add_argument("--edge-senders", type=int, default=3)
    l.add_argument("--imap-users", type=int, default=2)
    c = sub.add_parser("count")
    c.add_argument("--run", required=True)
    c.add_argument("--ledger", required=True)
    c.add_argument("--wait", type=int, default=180)
    c.add_argument("--postfix-log")
    c.add_argument("doveadm", nargs="+")
    a = p.parse_args()
    if a.cmd == "load":
        load(a)
        return 0
    return count(a)


if __name__ == "__main__":
    sys.exit(main())
