#!/usr/bin/env python3
"""Prints the CPU time and resident memory of process trees, as one JSON object: {"PID": {"cpu_ns": N, "rss_kib": N,
"procs": N}, ...}.

CPU time is the sum over every thread of the process and all its descendants of /proc/<pid>/task/<tid>/schedstat's
first field (nanoseconds on the CPU; finer than utime+stime's 10 ms ticks), falling back to utime+stime; RSS is the
sum of VmRSS. Usage: proctree.py PID [PID...]
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


def cpu_ns(pid):
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) * TICK_NS
            except OSError:
                pass
    return total


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
