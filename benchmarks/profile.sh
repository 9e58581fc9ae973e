#!/usr/bin/env bash
# Profiles one Postern process under one load scenario: CPU per operation in a steady-state window, and optionally
# a JFR recording (execution samples, allocations) or a perf profile of that window.
#
# Usage: benchmarks/profile.sh [--mode tcp|imap] [--scenario imap-login] [--concurrency N] [--warmup S]
#                              [--duration S] [--jfr] [--perf] [--flags "JVM FLAGS"] [--opts "MORE FLAGS"]
#
#   --mode        tcp: Postern's tcp listener (TLS + relay); imap: its IMAP listener (IMAP before login)
#   --warmup S    seconds of load before the measured window (JIT, pools); default 30
#   --duration S  the measured window; default 30
#   --jfr         record the measured window with JFR (profile settings) -> benchmarks/run/profile/postern.jfr
#   --perf        perf record -g of the window with a JIT map (-XX:+DumpPerfMapAtExit) -> benchmarks/run/profile/
#   --flags       replaces bin/postern's default JVM flags; --opts adds to them
#
# Needs the configs and private backends of benchmarks/compare.sh: run compare.sh once first (--quick is enough).
# Starts the private backends (ports +30000) if they are down; leaves them running (stop them with
# POSTERN_BACKENDS_DIR=benchmarks/run/backends POSTERN_BACKENDS_PORT_OFFSET=30000 scripts/dev-backends.sh stop).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/benchmarks
RUN=$BENCH/run
OUT=$RUN/profile
MODE=tcp SCENARIO=imap-login CONCURRENCY=32 WARMUP=30 DURATION=30 JFR=0 PERF=0 FLAGS= OPTS=
while (($#)); do
    case $1 in
    --mode) MODE=$2 && shift ;;
    --scenario) SCENARIO=$2 && shift ;;
    --concurrency) CONCURRENCY=$2 && shift ;;
    --warmup) WARMUP=$2 && shift ;;
    --duration) DURATION=$2 && shift ;;
    --jfr) JFR=1 ;;
    --perf) PERF=1 ;;
    --flags) FLAGS=$2 && shift ;;
    --opts) OPTS=$2 && shift ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *) echo "profile: unknown argument '$1'" >&2 && exit 1 ;;
    esac
    shift
done
say() { echo "profile: $*" >&2; }
case $MODE in
tcp) CONF=$RUN/postern-tcp/postern.yaml PORT=22993 ;;
imap) CONF=$RUN/postern/postern.yaml PORT=23993 ;;
*) echo "profile: --mode tcp|imap" >&2 && exit 1 ;;
esac
[[ -f $CONF ]] || { echo "profile: $CONF is missing: run benchmarks/compare.sh --quick once" >&2; exit 1; }
mkdir -p "$OUT"
export POSTERN_BACKENDS_DIR=$RUN/backends POSTERN_BACKENDS_PORT_OFFSET=30000
"$ROOT/scripts/dev-backends.sh" start >"$OUT/backends.log" 2>&1
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

opts="$OPTS"
((PERF)) && opts="$opts -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer"
export POSTERN_JAVA_OPTS="$opts"
[[ -n $FLAGS ]] && export POSTERN_JAVA_FLAGS="$FLAGS"
"$ROOT/bin/postern" --config "$CONF" >"$OUT/postern.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
for ((i = 0; i < 300; i++)); do
    (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -0 $PID 2>/dev/null || { cat "$OUT/postern.log" >&2; exit 1; }
    sleep 0.1
done

LOAD=(java -XX:+UseSerialGC -Xms256m -Xmx2g -XX:TieredStopAtLevel=1 -jar "$BENCH/target/postern-load.jar")
args=("$SCENARIO" --port "$PORT" --tls implicit --concurrency "$CONCURRENCY")
[[ $SCENARIO == imap-fetch-big ]] && args+=(--users alice@example.test:alice-pw --mailbox bench-big)
say "warm-up ${WARMUP}s ($MODE, $SCENARIO, c=$CONCURRENCY)"
"${LOAD[@]}" "${args[@]}" --duration "$WARMUP" >/dev/null 2>>"$OUT/load.log"

sample() { python3 "$BENCH/lib/proctree.py" "$PID" | python3 -c 'import json,sys; print(list(json.load(sys.stdin).values())[0]["cpu_ns"])'; }
threads() { # CPU ns per thread name (summed)
    for t in /proc/$PID/task/*; do
        printf '%s\t%s\n' "$(cat "$t/comm")" "$(cut -d' ' -f1 "$t/schedstat")"
    done | awk -F'\t' '{s[$1]+=$2} END {for (k in s) printf "%s\t%.0f\n", k, s[k]}' | sort
}
((JFR)) && jcmd $PID JFR.start name=p settings=profile filename="$OUT/postern.jfr" >/dev/null
if ((PERF)); then
    perf record -F 999 -g -p $PID -o "$OUT/perf.data" 2>"$OUT/perf.log" &
    PERF_PID=$!
fi
threads >"$OUT/threads.before"
before=$(sample)
out=$("${LOAD[@]}" "${args[@]}" --duration "$DURATION" 2>>"$OUT/load.log")
after=$(sample)
threads >"$OUT/threads.after"
((PERF)) && { kill -INT $PERF_PID; wait $PERF_PID || true; }
((JFR)) && jcmd $PID JFR.stop name=p >/dev/null
echo "$out" >"$OUT/load.json"
python3 - "$before" "$after" "$out" "$OUT/threads.before" "$OUT/threads.after" <<'EOF'
import json, sys
before, after, load = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
ops = load["ops"]
cpu = (after - before) / 1e9
print(f"ops {ops}, {load['ops_per_s']:.1f}/s, p50 {load['latency_ms']['p50']:.1f} ms, errors {load['errors']}")
if load.get("bytes"):
    print(f"CPU {cpu:.2f} s, {cpu / (load['bytes'] / (1 << 30)):.2f} s/GiB")
else:
    print(f"CPU {cpu:.2f} s, {cpu * 1000 / max(ops, 1):.3f} ms/op")
b = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[4]))
a = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[5]))
for name in sorted(a, key=lambda n: -(int(a[n]) - int(b.get(n, 0)))):
    d = (int(a[name]) - int(b.get(name, 0))) / 1e6
    if d > 1:
        print(f"  {name:24s} {d / max(ops, 1):8.3f} ms/op")
EOF
if ((PERF)); then
    kill $PID && wait $PID 2>/dev/null || true
    say "perf data in $OUT/perf.data (map /tmp/perf-$PID.map)"
fi
