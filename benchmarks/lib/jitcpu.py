#!/usr/bin/env python3
"""Prints the CPU milliseconds the JIT compiler threads of a JVM have used so far: "C1_MS C2_MS".

compare.sh --warmup uses it beside the JVM's compilation log (-Xlog:jit+compilation) to show that compilation has
stopped before it measures. A compiler thread that ended already is not counted (HotSpot keeps its compiler
threads while there is work, so under load they live). Usage: jitcpu.py PID
"""
import os
import sys

pid = sys.argv[1]
ms = {"C1": 0.0, "C2": 0.0}
for tid in os.listdir(f"/proc/{pid}/task"):
    try:
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            comm = f.read().strip()
        if not comm.endswith("CompilerThre") and "CompilerThread" not in comm:
            continue
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            ns = int(f.read().split()[0])
    except OSError:
        continue
    kind = comm[:2]
    if kind in ms:
        ms[kind] += ns / 1e6
print(f"{ms['C1']:.0f} {ms['C2']:.0f}")
