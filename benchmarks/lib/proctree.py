#!/usr/bin/env python3
"""Prints the CPU time and resident memory of process trees, as one JSON object: {"PID": {"cpu_ns": N, "rss_kib": N,
"procs": N}, ...}.

CPU time is the sum over every thread of the process and all its descendants of /proc/<pid>/task/<tid>/schedstat's
first field (nanoseconds on the CPU; finer than utime+stime's 10 ms ticks), falling back to utime+stime, plus the
utime+stime of threads that ended already (the process's stat keeps it); RSS is the sum of VmRSS.
Usage: proctree.py PID [PID...]
"""
import json
import os
import sys

TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def children_map():
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def tree(pid, kids):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def ticks(path):
    """utime + stime of a /proc stat file, in clock ticks."""
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_ns(pid):
    """The process's CPU time: every live thread's schedstat, plus what threads that ended already used.

    The second part matters: the JVM stops idle JIT compiler threads (UseDynamicNumberOfCompilerThreads), and a
    thread that ends takes its schedstat with it, so a sum over live threads alone can go down between two samples
    by all the CPU that thread ever used. The process's own utime + stime keeps the ended threads' time (in ticks).
    """
    total = live_ticks = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
        process_ticks = ticks(f"/proc/{pid}/stat")
    except OSError:
        return 0
    for tid in tids:
        try:
            thread_ticks = ticks(f"/proc/{pid}/task/{tid}/stat")
        except OSError:
            continue  # ended meanwhile: its time is in process_ticks
        live_ticks += thread_ticks
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            total += thread_ticks * TICK_NS
    return total + max(0, process_ticks - live_ticks) * TICK_NS


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(pids):
    kids = children_map()
    result = {}
    for pid in pids:
        procs = tree(int(pid), kids)
        result[pid] = {
            "cpu_ns": sum(cpu_ns(p) for p in procs),
            "rss_kib": sum(rss_kib(p) for p in procs),
            "procs": len(procs),
        }
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1:])
