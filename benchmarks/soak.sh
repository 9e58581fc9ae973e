#!/usr/bin/env bash
# The ledger run: proves that no message Postern accepted is lost while its dependencies fail.
#
# Usage: benchmarks/soak.sh --minutes N [--seed S]
#
# Starts its own Postern (proxy/target/postern.jar; build it with `mvn -B -o -q -pl proxy -am package -DskipTests`)
# on the dev backends (scripts/dev-backends.sh, started if they are not running, at POSTERN_BACKENDS_PORT_OFFSET,
# default 0) and a small nginx auth_http service (benchmarks/lib/soak_auth.py) that Postern asks for every login,
# behind its cache with stale-if-error. For N minutes: submission (AUTH, then to bob) and port-25 (to bob) senders,
# each message with a unique Subject and Message-ID, and IMAP sessions beside them, while a chaos loop kills at
# random Dovecot (SIGKILL of every process), Postfix (SIGKILL of its master and children) or the auth service, and
# brings each back after a few seconds. Then everything is healed, Postfix's queue is flushed, and every message that
# got a 250 from Postern is looked for in bob's INBOX (doveadm fetch). The last two lines:
#   ledger: accepted=A delivered=D refused=R lost=L duplicated=X
#   imap: started=S errors=E hung=H
# Exit status 0 only when lost, duplicated and hung are 0. Everything it started is stopped at the end (the dev
# backends only if it started them). Work files are in run/soak-<id>/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MINUTES=
SEED=$RANDOM
while [[ $# -gt 0 ]]; do
    case $1 in
        --minutes) MINUTES=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        *) sed -n '2,20p' "$0" >&2; exit 2 ;;
    esac
done
[[ $MINUTES =~ ^[0-9]+$ && $MINUTES -ge 1 && $MINUTES -le 24*60 ]] || { echo "soak: --minutes N (1..1440)" >&2; exit 2; }
RANDOM=$SEED
OFFSET=${POSTERN_BACKENDS_PORT_OFFSET:-0}
export POSTERN_BACKENDS_PORT_OFFSET=$OFFSET
BACKENDS=$ROOT/scripts/dev-backends.sh
STATE=${POSTERN_BACKENDS_DIR:-$ROOT/run/backends}
RUN_ID=$(date +%H%M%S)-$SEED
WORK=$ROOT/run/soak-$RUN_ID
mkdir -p "$WORK"
JAR=${POSTERN_JAR:-$ROOT/proxy/target/postern.jar}
[[ -f $JAR ]] || { echo "soak: $JAR is missing; build it first" >&2; exit 2; }
say() { echo "soak: $*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P_SUB=$(free_port); P_EDGE=$(free_port); P_IMAP=$(free_port); P_AUTH=$(free_port)
IMAP=$((2143 + OFFSET)); SUBMISSION=$((2587 + OFFSET)); SMTP=$((2025 + OFFSET))

STARTED_BACKENDS=0
if ! bash "$BACKENDS" status >/dev/null 2>&1; then
    say "starting the dev backends (offset $OFFSET)"
    bash "$BACKENDS" start >"$WORK/backends.log" 2>&1
    STARTED_BACKENDS=1
fi

AUTH_PID=
start_auth() { python3 "$ROOT/benchmarks/lib/soak_auth.py" "$P_AUTH" & AUTH_PID=$!; }
POSTERN_PID=
CHAOS_PID=
cleanup() {
    [[ -n $CHAOS_PID ]] && kill "$CHAOS_PID" 2>/dev/null || true
    [[ -n $POSTERN_PID ]] && kill "$POSTERN_PID" 2>/dev/null && wait "$POSTERN_PID" 2>/dev/null || true
    [[ -n $AUTH_PID ]] && kill "$AUTH_PID" 2>/dev/null || true
    if [[ -f $WORK/auth.pid ]]; then kill "$(cat "$WORK/auth.pid")" 2>/dev/null || true; fi
    if [[ $STARTED_BACKENDS == 1 ]]; then bash "$BACKENDS" stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
start_auth
echo "$AUTH_PID" >"$WORK/auth.pid"

cat >"$WORK/postern.yaml" <<EOF
listeners:
  - {name: submission, protocol: smtp, bind: "127.0.0.1:$P_SUB", allow-plaintext-auth: true, pool: submission,
     auth: [svc]}
  - {name: mx, protocol: smtp, bind: "127.0.0.1:$P_EDGE", pool: mx,
     smtp: {role: relay, hostname: mx.soak.test, local-domains: [example.test],
            limits: {connections-per-client: 50, connections-per-minute: 1000000}}}
  - {name: imap, protocol: imap, bind: "127.0.0.1:$P_IMAP", allow-plaintext-auth: true, pool: imap, auth: [svc]}
pools:
  - {name: submission, backends: [{address: "127.0.0.1:$SUBMISSION"}]}
  - {name: mx, backends: [{address: "127.0.0.1:$SMTP", identity: xclient}]}
  - {name: imap, backends: [{address: "127.0.0.1:$IMAP"}]}
auth:
  providers:
    - {name: svc, type: http, url: "http://127.0.0.1:$P_AUTH/auth", timeout: 1s}
  cache: {ttl: 20s, negative-ttl: 5s, refresh-after: 10s, stale-if-error: 1h}
timeouts: {connect: 2s, pre-auth: 30s, idle: 30s, shutdown-grace: 5s}
routing: {file: "$WORK/routes.json"}
EOF
java -Xmx256m -jar "$JAR" --config "$WORK/postern.yaml" >"$WORK/postern.log" 2>&1 &
POSTERN_PID=$!
for _ in $(seq 100); do
    kill -0 "$POSTERN_PID" 2>/dev/null || { cat "$WORK/postern.log" >&2; POSTERN_PID=; exit 1; }
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$P_IMAP),1)" 2>/dev/null && break
    sleep 0.2
done
say "run $RUN_ID: Postern pid $POSTERN_PID (submission $P_SUB, mx $P_EDGE, imap $P_IMAP), auth service $P_AUTH, $MINUTES min"

kill_tree_in() { # SIGKILL every process whose working directory or command line is under $1 and names $2
    local dir=$1 name=$2 pid
    for pid in $(pgrep -f "$name" || true); do
        # dovecot-lda is Postfix's delivery agent, not the server: killing it mid-delivery makes Postfix deliver
        # again (at-least-once, a duplicate the proxy had no part in), so it is left alone
        if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q dovecot-lda; then continue; fi
        if [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$dir"* ]] || tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q "$dir"; then
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
}

chaos() {
    local end=$(( $(date +%s) + MINUTES * 60 - 20 ))
    while (( $(date +%s) < end )); do
        sleep $(( 8 + RANDOM % 15 ))
        case $(( RANDOM % 3 )) in
            0) echo "$(date +%T) kill dovecot"; kill_tree_in "$STATE" dovecot
               sleep $(( 2 + RANDOM % 6 )); bash "$BACKENDS" start >/dev/null 2>&1 || echo "restart failed" ;;
            1) echo "$(date +%T) kill postfix"; kill_tree_in "$STATE" postfix
               sleep $(( 2 + RANDOM % 6 )); bash "$BACKENDS" start >/dev/null 2>&1 || echo "restart failed" ;;
            2) echo "$(date +%T) kill auth service"; kill -9 "$(cat "$WORK/auth.pid")" 2>/dev/null || true
               sleep $(( 2 + RANDOM % 8 ))
               python3 "$ROOT/benchmarks/lib/soak_auth.py" "$P_AUTH" & echo $! >"$WORK/auth.pid" ;;
        esac
    done
}
chaos >"$WORK/chaos.log" 2>&1 &
CHAOS_PID=$!

python3 "$ROOT/benchmarks/lib/soak.py" load --seconds $((MINUTES * 60)) --run "$RUN_ID" \
    --submission "$P_SUB" --edge "$P_EDGE" --imap "$P_IMAP" --out "$WORK/ledger.jsonl"
wait "$CHAOS_PID" 2>/dev/null || true
CHAOS_PID=
say "load over; chaos: $(grep -c kill "$WORK/chaos.log" || true) kills ($(tr '\n' ';' <"$WORK/chaos.log" | cut -c1-300))"
bash "$BACKENDS" start >/dev/null 2>&1 || true
postqueue -c "$STATE/postfix/etc" -f 2>/dev/null || true
say "Postern RSS $(awk '/VmRSS/ {print $2, $3}' "/proc/$POSTERN_PID/status" 2>/dev/null)"
python3 "$ROOT/benchmarks/lib/soak.py" count --run "$RUN_ID" --ledger "$WORK/ledger.jsonl" \
    --postfix-log "$STATE/postfix.log" -- \
    doveadm -c "$STATE/dovecot/dovecot.conf"
