#!/usr/bin/env bash
# Profiles one Postern process under one load scenario: CPU per operation in a steady-state window, and optionally
# a JFR recording (execution samples, allocations) or a perf profile of that window.
#
# Usage: benchmarks/profile.sh [--mode tcp|imap] [--scenario imap-login] [--concurrency N] [--warmup S]
#                              [--duration S] [--store file|redis|file,redis] [--rounds N] [--jfr] [--perf]
#                              [--flags "JVM FLAGS"] [--opts "MORE FLAGS"]
#
#   --mode        tcp: Postern's tcp listener (TLS + relay); imap: its IMAP listener (IMAP before login)
#   --warmup S    seconds of load before the measured window (JIT, pools); default 30
#   --duration S  the measured window; default 30
#   --store       where the routing table lives: file (routing.store: file, a route file under
#                 benchmarks/run/profile/) or redis (routing.store: redis on a private redis-server, 127.0.0.1:26390);
#                 default: the config as compare.sh wrote it (file store in memory). Several, comma-separated, are
#                 measured in the same run, interleaved and every other round reversed (file, redis, redis, file,
#                 ...): the fair way on a shared machine; the table at the end gives the CPU per op of each and
#                 their ratio per round.
#   --rounds N    measure every store N times (default 1); each measurement is a fresh Postern with its own warm-up
#   --jfr         record the measured window with JFR (profile settings) -> benchmarks/run/profile/postern.jfr
#   --perf        perf record -g of the window with a JIT map (-XX:+DumpPerfMapAtExit) -> benchmarks/run/profile/
#   --flags       replaces bin/postern's default JVM flags; --opts adds to them
#
# Needs the configs and private backends of benchmarks/compare.sh: run compare.sh once first (--quick is enough).
# Starts the private backends (ports +30000) if they are down; leaves them running (stop them with
# POSTERN_BACKENDS_DIR=benchmarks/run/backends POSTERN_BACKENDS_PORT_OFFSET=30000 scripts/dev-backends.sh stop).
# --store redis needs redis-server (Debian package redis-server); it is started for the run and stopped after.
# Every run's figures go to benchmarks/run/profile/runs.jsonl as well.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/benchmarks
RUN=$BENCH/run
OUT=$RUN/profile
MODE=tcp SCENARIO=imap-login CONCURRENCY=32 WARMUP=30 DURATION=30 JFR=0 PERF=0 FLAGS= OPTS= STORES=config ROUNDS=1
REDIS_PORT=26390
while (($#)); do
    case $1 in
    --mode) MODE=$2 && shift ;;
    --scenario) SCENARIO=$2 && shift ;;
    --concurrency) CONCURRENCY=$2 && shift ;;
    --warmup) WARMUP=$2 && shift ;;
    --duration) DURATION=$2 && shift ;;
    --store) STORES=$2 && shift ;;
    --rounds) ROUNDS=$2 && shift ;;
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
IFS=, read -r -a STORE_LIST <<<"$STORES"
for store in "${STORE_LIST[@]}"; do
    [[ $store == file || $store == redis || $store == config ]] || { echo "profile: --store file|redis" >&2; exit 1; }
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "profile: --rounds takes a positive number" >&2; exit 1; }
mkdir -p "$OUT"
: >"$OUT/runs.jsonl"
export POSTERN_BACKENDS_DIR=$RUN/backends POSTERN_BACKENDS_PORT_OFFSET=30000
"$ROOT/scripts/dev-backends.sh" start >"$OUT/backends.log" 2>&1
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

PID= REDIS_PID=
cleanup() {
    [[ -n $PID ]] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }
    [[ -n $REDIS_PID ]] && { kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null || true; }
}
trap cleanup EXIT

# A private Redis for routing.store: redis, nothing persisted: each Postern seeds it with its table at start.
start_redis() {
    local dir=$OUT/redis i
    mkdir -p "$dir"
    printf 'port %s\nbind 127.0.0.1\nsave ""\nappendonly no\ndir %s\nlogfile %s\n' \
        "$REDIS_PORT" "$dir" "$dir/redis.log" >"$dir/redis.conf"
    redis-server "$dir/redis.conf" </dev/null >/dev/null 2>&1 &
    REDIS_PID=$!
    for ((i = 0; i < 100; i++)); do
        [[ $(redis-cli -p "$REDIS_PORT" PING 2>/dev/null) == PONG ]] && return
        kill -0 $REDIS_PID 2>/dev/null || break
        sleep 0.1
    done
    cat "$dir/redis.log" >&2
    exit 1
}
[[ " ${STORE_LIST[*]} " == *" redis "* ]] && start_redis

# The config for STORE: compare.sh's, with the routing section the store asks for.
store_config() {
    local store=$1 conf=$OUT/postern-$1.yaml
    case $store in
    config) echo "$CONF" && return ;;
    file) printf '%s\nrouting:\n  store: file\n  file: %s\n' "$(<"$CONF")" "$OUT/routes-file.json" >"$conf" ;;
    redis)
        redis-cli -p "$REDIS_PORT" FLUSHALL >/dev/null # the same first start for every round: this node seeds it
        printf '%s\nrouting:\n  store: redis\n  file: %s\ncluster:\n  addresses: ["127.0.0.1:%s"]\n  node-id: bench\n' \
            "$(<"$CONF")" "$OUT/routes-redis.json" "$REDIS_PORT" >"$conf"
        ;;
    esac
    rm -f "$OUT/routes-$store.json"
    echo "$conf"
}

LOAD=(java -XX:+UseSerialGC -Xms256m -Xmx2g -XX:TieredStopAtLevel=1 -jar "$BENCH/target/postern-load.jar")
args=("$SCENARIO" --port "$PORT" --tls implicit --concurrency "$CONCURRENCY")
[[ $SCENARIO == imap-fetch-big ]] && args+=(--users alice@example.test:alice-pw --mailbox bench-big)

sample() { python3 "$BENCH/lib/proctree.py" "$PID" | python3 -c 'import json,sys; print(list(json.load(sys.stdin).values())[0]["cpu_ns"])'; }
threads() { # CPU ns per thread name (summed)
    for t in /proc/$PID/task/*; do
        printf '%s\t%s\n' "$(cat "$t/comm")" "$(cut -d' ' -f1 "$t/schedstat")"
    done | awk -F'\t' '{s[$1]+=$2} END {for (k in s) printf "%s\t%.0f\n", k, s[k]}' | sort
}

# run_once ROUND STORE: a fresh Postern on STORE's config, warm-up, the measured window; one line in runs.jsonl.
run_once() {
    local round=$1 store=$2 conf before after out i opts
    conf=$(store_config "$store")
    opts="$OPTS"
    ((PERF)) && opts="$opts -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer"
    POSTERN_JAVA_OPTS="$opts" POSTERN_JAVA_FLAGS="${FLAGS:-}" "$ROOT/bin/postern" --config "$conf" \
        >"$OUT/postern-$store.log" 2>&1 &
    PID=$!
    for ((i = 0; i < 300; i++)); do
        (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        kill -0 $PID 2>/dev/null || { cat "$OUT/postern-$store.log" >&2; exit 1; }
        sleep 0.1
    done
    say "round $round, store $store: warm-up ${WARMUP}s ($MODE, $SCENARIO, c=$CONCURRENCY)"
    "${LOAD[@]}" "${args[@]}" --duration "$WARMUP" >/dev/null 2>>"$OUT/load.log"
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
    python3 - "$before" "$after" "$out" "$OUT/threads.before" "$OUT/threads.after" "$round" "$store" \
        "$OUT/runs.jsonl" <<'EOF'
import json, sys
before, after, load = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
round_, store, runs = sys.argv[6], sys.argv[7], sys.argv[8]
ops = load["ops"]
cpu = (after - before) / 1e9
print(f"[round {round_}, store {store}] ops {ops}, {load['ops_per_s']:.1f}/s, p50 {load['latency_ms']['p50']:.1f} ms, "
      f"errors {load['errors']}")
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
with open(runs, "a") as f:
    f.write(json.dumps({"round": int(round_), "store": store, "ops": ops, "ops_per_s": load["ops_per_s"],
                        "p50_ms": load["latency_ms"]["p50"], "errors": load["errors"],
                        "first_error": load.get("first_error"), "cpu_s": cpu,
                        "cpu_ms_per_op": cpu * 1000 / max(ops, 1)}) + "\n")
EOF
    if ((PERF)); then
        say "perf data in $OUT/perf.data (map /tmp/perf-$PID.map)"
    fi
    kill $PID 2>/dev/null && wait $PID 2>/dev/null || true
    PID=
}

# Every other round in reverse (file, redis, redis, file, ...): a load that rises or falls during the run (other
# work on the machine) then weighs on both stores alike instead of always on the one measured second.
for ((round = 1; round <= ROUNDS; round++)); do
    order=("${STORE_LIST[@]}")
    if ((round % 2 == 0)); then
        order=()
        for ((i = ${#STORE_LIST[@]} - 1; i >= 0; i--)); do
            order+=("${STORE_LIST[$i]}")
        done
    fi
    for store in "${order[@]}"; do
        run_once "$round" "$store"
    done
done

# With more than one run: CPU per op of each store per round, and each store against the first one.
(($(wc -l <"$OUT/runs.jsonl") > 1)) && python3 - "$OUT/runs.jsonl" "$STORES" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
stores = sys.argv[2].split(",")
rounds = sorted({r["round"] for r in runs})
by = {(r["round"], r["store"]): r for r in runs}
base = stores[0]
head = ["round"] + [f"{s} ms/op" for s in stores] + [f"{s} / {base}" for s in stores[1:]] + \
    [f"{s} ops/s" for s in stores] + [f"{s} errors" for s in stores]
print()
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
ratios = {s: [] for s in stores[1:]}
for n in rounds:
    row = [str(n)] + [f"{by[(n, s)]['cpu_ms_per_op']:.3f}" for s in stores]
    for s in stores[1:]:
        ratios[s].append(by[(n, s)]["cpu_ms_per_op"] / by[(n, base)]["cpu_ms_per_op"])
        row.append(f"{ratios[s][-1]:.2f}")
    row += [f"{by[(n, s)]['ops_per_s']:.0f}" for s in stores] + [str(by[(n, s)]["errors"]) for s in stores]
    print("| " + " | ".join(row) + " |")
med = ["median"] + [f"{statistics.median(by[(n, s)]['cpu_ms_per_op'] for n in rounds):.3f}" for s in stores]
med += [f"{statistics.median(ratios[s]):.2f} ({min(ratios[s]):.2f}-{max(ratios[s]):.2f})" for s in stores[1:]]
med += [f"{statistics.median(by[(n, s)]['ops_per_s'] for n in rounds):.0f}" for s in stores]
med += [str(sum(by[(n, s)]["errors"] for n in rounds)) for s in stores]
print("| " + " | ".join(med) + " |")
EOF
exit 0
