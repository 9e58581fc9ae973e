#!/usr/bin/env python3
"""Turns benchmarks/run/results.jsonl (written by benchmarks/compare.sh) into benchmarks/RESULTS.md on stdout.

Usage: report.py RESULTS.jsonl MACHINE.env

Every figure is the median over the rounds, with the min-max range; ratios are computed within each round (the
machine is shared and noisy, so the peers measured minutes apart are compared with each other, not across rounds)
and then summarised the same way.
"""
import json
import os
import statistics
import sys

TARGETS = ["direct", "nginx", "haproxy", "postern-tcp", "postern"]
POSTERNS = ["postern-tcp", "postern"]
PEERS = ["nginx", "haproxy"]
GIB = 1 << 30


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def machine(path):
    env = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            env[key] = value
    return env


def cpu_s(row):
    return (row["after"]["cpu_ns"] - row["before"]["cpu_ns"]) / 1e9


def metric(row, name):
    """One figure of one measurement, or None where it does not apply."""
    load = row["load"]
    ops = load["ops"]
    if name == "cpu_ms_per_op":
        return cpu_s(row) * 1000 / ops if ops else None
    if name == "cpu_s_per_gib":
        return cpu_s(row) / (load["bytes"] / GIB) if load["bytes"] else None
    if name == "kib_per_session":
        if not row.get("during") or not load["held"]:
            return None
        return (row["during"]["rss_kib"] - row["before"]["rss_kib"]) / load["held"]
    if name == "ops_per_s":
        return load["ops_per_s"]
    if name == "mb_per_s":
        return load["mb_per_s"]
    if name in ("p50", "p90", "p99", "max"):
        return load["latency_ms"][name] if ops else None
    if name == "errors":
        return load["errors"]
    if name == "rss_mib":
        return (row.get("during") or row["after"])["rss_kib"] / 1024
    if name == "held":
        return load["held"]
    raise KeyError(name)


def summary(values, digits=2):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med, digits)
    sep = " to " if min(values) < 0 else "-"
    return f"{fmt(med, digits)} ({fmt(min(values), digits)}{sep}{fmt(max(values), digits)})"


def fmt(v, digits):
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def by(rows, variant):
    out = {}
    for r in rows:
        if r["variant"] == variant and r["round"] != "capacity":
            out.setdefault(r["target"], []).append(r)
    return out


def ratios(rows, variant, name, mine, peer):
    """The per-round ratios mine/peer of metric name."""
    per_round = {}
    for r in rows:
        if r["variant"] == variant and r["round"] != "capacity":
            per_round.setdefault(r["round"], {})[r["target"]] = metric(r, name)
    out = []
    for targets in per_round.values():
        a, b = targets.get(mine), targets.get(peer)
        if a is not None and b:
            out.append(a / b)
    return out


def headline(rows, targets):
    lines = []
    figures = [
        ("CPU ms per IMAPS login session (connect, LOGIN, SELECT, FETCH, LOGOUT; c=32)", "imap-login/implicit",
         "cpu_ms_per_op", 3),
        ("CPU s per GiB of a large FETCH through TLS", "imap-fetch-big/implicit", "cpu_s_per_gib", 2),
        ("KiB of RSS per idle TLS IMAP session (both sides)", "imap-idle/implicit", "kib_per_session", 1),
        ("CPU ms per POP3S login session (connect, USER/PASS, STAT, QUIT; c=32)", "pop3-login/implicit",
         "cpu_ms_per_op", 3),
        ("CPU ms per SMTPS submission (connect, EHLO, AUTH, one message, QUIT; c=16)", "smtp-submit/implicit",
         "cpu_ms_per_op", 3),
        ("IMAPS logins per second (c=32)", "imap-login/implicit", "ops_per_s", 1),
        ("IMAPS login session p50 latency, ms (c=32)", "imap-login/implicit", "p50", 1),
        ("IMAPS login session p50 latency, ms (c=1)", "imap-login-c1/implicit", "p50", 2),
        ("MB/s of a large FETCH through TLS (4 streams)", "imap-fetch-big/implicit", "mb_per_s", 1),
    ]
    proxies = [t for t in targets if t != "direct"]
    lines.append("| figure | " + " | ".join(targets) + " |")
    lines.append("|---|" + "---|" * len(targets))
    for title, variant, name, digits in figures:
        groups = by(rows, variant)
        cells = []
        for t in targets:
            if t == "direct" and name in ("cpu_ms_per_op", "cpu_s_per_gib", "kib_per_session"):
                cells.append("-")
            else:
                cells.append(summary([metric(r, name) for r in groups.get(t, [])], digits))
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Ratios, computed within each round (median, min-max; below 1 means Postern uses less):")
    lines.append("")
    pairs = [(m, p) for m in POSTERNS if m in proxies for p in PEERS if p in proxies]
    # the extra Postern processes of compare.sh --extra (JIT, JDK variants) against HAProxy only
    pairs += [(m, "haproxy") for m in proxies if m.startswith("postern-") and m not in POSTERNS
              and "haproxy" in proxies]
    # the io_uring transport against the same Postern on the default transport (epoll)
    if "postern-iouring" in proxies and "postern" in proxies:
        pairs.append(("postern-iouring", "postern"))
    if not pairs:
        lines.append("(no pair of Postern and a peer was measured)")
        return lines
    lines.append("| figure | " + " | ".join(f"{m} / {p}" for m, p in pairs) + " |")
    lines.append("|---|" + "---|" * len(pairs))
    for title, variant, name, digits in figures[:5]:
        cells = [summary(ratios(rows, variant, name, m, p), 2) for m, p in pairs]
        if all(c == "n/a" for c in cells):
            continue
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    if "direct" in targets:
        lines.append("")
        lines.append("Latency added to a login session at concurrency 1: p50 through the proxy minus p50 direct to"
                     " Dovecot, per round (median, min-max; ms; Dovecot's own TLS is slower than the proxies', so"
                     " this can be negative):")
        lines.append("")
        lines.append("| " + " | ".join(proxies) + " |")
        lines.append("|" + "---|" * len(proxies))
        lines.append("| " + " | ".join(summary(differences(rows, "imap-login-c1/implicit", "p50", t, "direct"), 2)
                                       for t in proxies) + " |")
    return lines


def differences(rows, variant, name, mine, peer):
    """The per-round differences mine - peer of metric name."""
    per_round = {}
    for r in rows:
        if r["variant"] == variant and r["round"] != "capacity":
            per_round.setdefault(r["round"], {})[r["target"]] = metric(r, name)
    return [t[mine] - t[peer] for t in per_round.values()
            if t.get(mine) is not None and t.get(peer) is not None]


def details(rows, targets):
    lines = []
    variants = []
    for r in rows:
        if r["variant"] not in variants and r["round"] != "capacity" and not r["variant"].startswith("process/"):
            variants.append(r["variant"])
    for variant in variants:
        groups = by(rows, variant)
        fetch = variant.startswith("imap-fetch-big")
        idle = variant.startswith("imap-idle")
        cols = ["target", "rounds", "ops", "ops/s", "p50 ms", "p90 ms", "p99 ms", "max ms"]
        if fetch:
            cols += ["MB/s", "CPU s/GiB"]
        elif idle:
            cols += ["held", "RSS MiB held", "KiB/session"]
        else:
            cols += ["CPU ms/op"]
        cols += ["errors", "first error"]
        lines.append(f"### {variant}")
        lines.append("")
        lines.append("| " + " | ".join(cols) + " |")
        lines.append("|" + "---|" * len(cols))
        for t in targets:
            rs = groups.get(t)
            if not rs:
                continue
            cells = [t, str(len(rs)), summary([r["load"]["ops"] for r in rs]), summary([metric(r, "ops_per_s") for r in rs], 1)]
            cells += [summary([metric(r, k) for r in rs], 1) for k in ("p50", "p90", "p99", "max")]
            if fetch:
                cells += [summary([metric(r, "mb_per_s") for r in rs], 1),
                          "-" if t == "direct" else summary([metric(r, "cpu_s_per_gib") for r in rs])]
            elif idle:
                cells += [summary([metric(r, "held") for r in rs]), summary([metric(r, "rss_mib") for r in rs], 1),
                          summary([metric(r, "kib_per_session") for r in rs], 1)]
            else:
                cells += ["-" if t == "direct" else summary([metric(r, "cpu_ms_per_op") for r in rs], 3)]
            errors = sum(r["load"]["errors"] for r in rs)
            first = next((r["load"]["first_error"] for r in rs if r["load"]["first_error"]), "")
            cells += [str(errors), first.replace("|", "/")[:80]]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def process_rss(rows, targets):
    """Whole-process RSS as started (before any session) and idle after the measurements (compare.sh's
    process/start and process/idle rows)."""
    start, idle = by(rows, "process/start"), by(rows, "process/idle")
    if not start:
        return []
    lines = ["| target | RSS started MiB | RSS idle after the load MiB | / HAProxy started | / HAProxy idle |",
             "|---|---|---|---|---|"]
    med = lambda rs: statistics.median(r["after"]["rss_kib"] / 1024 for r in rs) if rs else None
    h0, h1 = med(start.get("haproxy")), med(idle.get("haproxy"))
    for t in targets:
        if t == "direct" or t not in start:
            continue
        a, b = med(start.get(t)), med(idle.get(t))
        lines.append(f"| {t} | {a:.0f} | {'n/a' if b is None else f'{b:.0f}'} | "
                     f"{'n/a' if not h0 else f'{a / h0:.1f}'} | {'n/a' if not (h1 and b) else f'{b / h1:.1f}'} |")
    return lines


def errors(rows, targets):
    """The load generator's errors over every measurement, per target: a run with errors says so."""
    total = {}
    for r in rows:
        if r.get("load"):
            total[r["target"]] = total.get(r["target"], 0) + r["load"]["errors"]
    return ", ".join(f"{t} {total.get(t, 0)}" for t in targets)


def capacity(rows):
    caps = [r for r in rows if r["round"] == "capacity"]
    if not caps:
        return []
    lines = ["| target | sessions held | errors | RSS before MiB | RSS held MiB | KiB/session | "
             "RSS for 100,000 (projected) |", "|---|---|---|---|---|---|---|"]
    for r in caps:
        kib = metric(r, "kib_per_session")
        before = r["before"]["rss_kib"] / 1024
        held = r["during"]["rss_kib"] / 1024 if r.get("during") else 0
        projected = "n/a" if kib is None else f"{(r['before']['rss_kib'] + kib * 100000) / 1024 / 1024:.2f} GiB"
        lines.append(f"| {r['target']} | {r['load']['held']} | {r['load']['errors']} | {before:.0f} | {held:.0f} | "
                     f"{'n/a' if kib is None else f'{kib:.1f}'} | {projected} |")
    return lines


def main():
    rows = load(sys.argv[1])
    env = machine(sys.argv[2])
    present = {r["target"] for r in rows}
    targets = [t for t in TARGETS if t in present]
    targets += sorted(t for t in present if t not in TARGETS)
    out = []
    out.append("# Postern benchmark results")
    out.append("")
    out.append("Generated by `benchmarks/compare.sh` (do not edit by hand; re-run it). "
               + ("**Quick smoke run: the figures are not meaningful.** " if env.get("quick") == "1" else ""))
    out.append("")
    out.append(f"- date: {env.get('date')}")
    out.append(f"- machine: {env.get('cores')} cores, {env.get('cpu')}, {env.get('memory')}, Linux {env.get('kernel')};"
               f" load average at the end {env.get('load')} (the machine is shared: other work ran meanwhile)")
    if "nginx_ssl" in env:
        out.append(f"- nginx {env.get('nginx')} + libnginx-mod-mail ({env.get('nginx_ssl')}), 2 workers")
    out.append(f"- HAProxy {env.get('haproxy')} ({env.get('haproxy_ssl')}), nbthread 2, mode tcp")
    out.append(f"- Postern {env.get('postern')}, TLS {env.get('postern_tls')}, 2 I/O threads; {env.get('java')};"
               f" flags `{env.get('postern_flags')}` (bin/postern)")
    for key in sorted(k for k in env if k.startswith("flags_")):
        out.append(f"- {key[6:]} (compare.sh --extra): {env[key].split(';')[0]}; flags `{env[key].split('; ', 1)[-1]}`")
    if env.get("warmup", "0") != "0":
        out.append(f"- steady state (compare.sh --warmup {env.get('warmup')} --quiet {env.get('quiet')} --quiet-max"
                   f" {env.get('quiet_max', '0')}): every Postern was loaded before the measurements until its JIT"
                   " logged (almost) no compilation for the quiet window; the warm-up's log is"
                   " benchmarks/results/compare-warmup.txt:")
        path = env.get("warmup_log")
        if not (path and os.path.exists(path)):  # the copy kept with the raw measurements
            path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "results", "compare-warmup.txt")
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    if line.startswith(("steady", "NOT STEADY", "after the measurements")):
                        out.append(f"  - {line.strip()}")
    out.append(f"- backends: Dovecot {env.get('dovecot')}, Postfix {env.get('postfix')}")
    out.append(f"- TLS 1.3, ECDSA P-256 certificate, full handshake on every connection (no resumption)")
    out.append(f"- {env.get('repeat')} rounds of {env.get('duration')} s per measurement; {env.get('idle_sessions')}"
               f" idle sessions per proxy for the memory figure; large message {env.get('big_bytes')} bytes")
    out.append("")
    out.append("CPU and memory are the proxy process's own (utime+stime from schedstat, VmRSS; nginx: master and"
               " workers), read from /proc right before and after each measurement. `direct` is the client talking"
               " to Dovecot itself (its implicit-TLS ports; STARTTLS on its plain ports), the baseline for"
               " latency. `postern-tcp` is Postern's tcp listener (TLS termination + relay, what HAProxy does"
               " here); `postern` is Postern speaking IMAP/POP3/SMTP before login (what nginx's mail module does).")
    out.append("")
    out.append("## Headline")
    out.append("")
    out += headline(rows, targets)
    out.append("")
    out.append(f"Load generator errors, summed over every measurement in this report: {errors(rows, targets)}.")
    out.append("")
    proc = process_rss(rows, targets)
    if proc:
        out.append("## Whole process RSS")
        out.append("")
        out += proc
        out.append("")
    cap = capacity(rows)
    if cap:
        out.append("## Capacity: idle TLS IMAP sessions held at once")
        out.append("")
        out += cap
        out.append("")
    out.append("## Every measurement")
    out.append("")
    out.append("Median (min-max) over the rounds. An op is a whole session for the *-login and smtp-submit"
               " scenarios, one FETCH for imap-fetch-big, one session brought to IDLE for imap-idle.")
    out.append("")
    out += details(rows, targets)
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "results-notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            out.append(f.read().rstrip("\n"))
    print("\n".join(out))


if __name__ == "__main__":
    main()
