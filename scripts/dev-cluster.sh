#!/usr/bin/env bash
# A local three-node Postern cluster for development and tests: a private redis-server, three Postern nodes with
# routing.store: redis on the dev backends (scripts/dev-backends.sh), and HAProxy in front of them (mode tcp,
# send-proxy-v2, round robin, health checks on each node's /readyz). Everything on 127.0.0.1; nothing of the
# system's Redis or HAProxy is touched.
#
# Usage: scripts/dev-cluster.sh start|stop|status [PART...]
#
#   start     start every part that is not running (all, or the PARTs named), then wait until each answers: Redis
#             PING, each node's /readyz, HAProxy's ports and its health checks seeing every node up. Starts the dev
#             backends first when they are not running (and then "stop" stops them again). Builds
#             proxy/target/postern.jar when it is missing. No-op for what is running already.
#   stop      stop what this script started (pid files under the state directory): all, or the PARTs named.
#             Without PARTs, also the dev backends if "start" started them.
#   status    each part: running or not, Redis's answer, each node's readiness and route store, HAProxy's view
#             of every node. Exit 0 only when every part is up.
#   PARTs: redis node1 node2 node3 haproxy. "stop redis", then "start", plays a Redis outage; after a node was
#   killed, "start" brings it back.
#
# Ports (127.0.0.1), the default plan:
#   4993 IMAPS, 4995 POP3S    HAProxy, round robin over the nodes (send-proxy-v2)
#   n1993 IMAPS, n1995 POP3S  node n = 1..3 (11993, 21993, 31993; 11995, ...), proxy-protocol required from 127/8
#   n9025 admin API           node n (19025, 29025, 39025), the token of config/dev.yaml
#   16379 Redis
# With POSTERN_CLUSTER_PORT_BASE=B, one block of ports from B instead (for tests): HAProxy IMAPS B, POP3S B+1,
# Redis B+2; node n IMAPS B+10n, POP3S B+10n+1, admin B+10n+2.
#
# Environment:
#   POSTERN_CLUSTER_RUN        state directory (default <repo>/run/cluster): configs, logs, pid files, Redis's data
#   POSTERN_CLUSTER_PORT_BASE  see above (default: the fixed plan)
#   POSTERN_CLUSTER_TIMEOUT    seconds start and stop wait for each step (default 60)
#   POSTERN_BACKENDS_DIR, POSTERN_BACKENDS_PORT_OFFSET  which dev backends (passed on to scripts/dev-backends.sh)
#   POSTERN_JAVA_OPTS          more JVM flags for the nodes (bin/postern)
#
# Works as root on a fresh Debian machine with the packages of the README (redis-server haproxy, the dev backends'
# dovecot-imapd dovecot-pop3d dovecot-submissiond postfix, a JDK 17 and Maven) after `mvn -B -q package
# -DskipTests`. Try it:
#   scripts/dev-cluster.sh start
#   curl -k "imaps://127.0.0.1:4993/INBOX;UID=1" -u alice@example.test:alice-pw
#   curl -s -H "Authorization: Bearer dev-admin-token-not-a-secret" http://127.0.0.1:29025/api/v1/sessions
#   scripts/dev-cluster.sh status; scripts/dev-cluster.sh stop
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true # keep "&" literal in ${var//pattern/replacement}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
TEMPLATE=$REPO_DIR/config/dev-cluster/node.yaml.in
DEV_YAML=$REPO_DIR/config/dev.yaml
JAR=$REPO_DIR/proxy/target/postern.jar
BACKENDS=$SCRIPT_DIR/dev-backends.sh

RUN=${POSTERN_CLUSTER_RUN:-$REPO_DIR/run/cluster}
[[ $RUN == /* ]] || RUN=$PWD/$RUN
TIMEOUT=${POSTERN_CLUSTER_TIMEOUT:-60}
BASE=${POSTERN_CLUSTER_PORT_BASE:-}
NODES=(node1 node2 node3)
PARTS=(redis "${NODES[@]}" haproxy)

die() {
    echo "dev-cluster: $*" >&2
    exit 1
}

log() {
    echo "dev-cluster: $*"
}

# ---------------------------------------------------------------- settings and ports

validate_settings() {
    [[ $TIMEOUT =~ ^[0-9]+$ ]] || die "POSTERN_CLUSTER_TIMEOUT must be whole seconds, got '$TIMEOUT'"
    # the path ends up in YAML, HAProxy's and Redis's configs unquoted
    [[ $RUN =~ ^[A-Za-z0-9._/-]+$ ]] || die "state directory '$RUN' may only contain A-Z a-z 0-9 . _ / -"
    # HAProxy's stats socket: a unix socket path has at most 107 bytes
    ((${#RUN} <= 80)) || die "state directory '$RUN' is too long for the HAProxy stats socket"
    if [[ -n $BASE ]]; then
        [[ $BASE =~ ^[0-9]+$ ]] && ((BASE >= 1024 && BASE + 32 <= 65535)) ||
            die "POSTERN_CLUSTER_PORT_BASE must be a port 1024..65503, got '$BASE'"
    fi
    local offset=${POSTERN_BACKENDS_PORT_OFFSET:-0}
    [[ $offset =~ ^-?[0-9]+$ ]] || die "POSTERN_BACKENDS_PORT_OFFSET must be an integer, got '$offset'"
}

compute_ports() {
    local offset=${POSTERN_BACKENDS_PORT_OFFSET:-0} n
    BACKEND_IMAP_PORT=$((2143 + offset))
    BACKEND_POP3_PORT=$((2110 + offset))
    declare -gA IMAPS POP3S ADMIN
    if [[ -z $BASE ]]; then
        LB_IMAPS=4993 LB_POP3S=4995 REDIS_PORT=16379
        for n in 1 2 3; do
            IMAPS[node$n]=${n}1993 POP3S[node$n]=${n}1995 ADMIN[node$n]=${n}9025
        done
    else
        LB_IMAPS=$BASE LB_POP3S=$((BASE + 1)) REDIS_PORT=$((BASE + 2))
        for n in 1 2 3; do
            IMAPS[node$n]=$((BASE + 10 * n)) POP3S[node$n]=$((BASE + 10 * n + 1)) ADMIN[node$n]=$((BASE + 10 * n + 2))
        done
    fi
}

# The ports a part listens on.
part_ports() {
    case $1 in
    redis) echo "$REDIS_PORT" ;;
    haproxy) echo "$LB_IMAPS $LB_POP3S" ;;
    node*) echo "${IMAPS[$1]} ${POP3S[$1]} ${ADMIN[$1]}" ;;
    esac
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Lets tests (and people) read the live ports and paths instead of recomputing them.
write_ports_env() {
    local node
    {
        echo "# Written by scripts/dev-cluster.sh start. KEY=value, no quoting."
        echo "CLUSTER_RUN=$RUN"
        echo "CLUSTER_IMAPS_PORT=$LB_IMAPS"
        echo "CLUSTER_POP3S_PORT=$LB_POP3S"
        echo "CLUSTER_REDIS_PORT=$REDIS_PORT"
        echo "CLUSTER_HAPROXY_SOCKET=$RUN/haproxy/admin.sock"
        echo "CLUSTER_TLS_CERT=$RUN/tls/cert.pem"
        echo "CLUSTER_ADMIN_TOKEN=$(admin_token)"
        echo "CLUSTER_BACKEND_IMAP_PORT=$BACKEND_IMAP_PORT"
        echo "CLUSTER_BACKEND_POP3_PORT=$BACKEND_POP3_PORT"
        for node in "${NODES[@]}"; do
            local up=${node^^}
            echo "${up}_IMAPS_PORT=${IMAPS[$node]}"
            echo "${up}_POP3S_PORT=${POP3S[$node]}"
            echo "${up}_ADMIN_PORT=${ADMIN[$node]}"
            echo "${up}_PID_FILE=$RUN/$node/pid"
        done
    } >"$RUN/ports.env.tmp"
    mv "$RUN/ports.env.tmp" "$RUN/ports.env"
}

# config/dev.yaml's development token: one place for it.
admin_token() {
    local token
    token=$(sed -n 's/^ *- {name: dev, token: \([^,}]*\),.*/\1/p' "$DEV_YAML" | head -1)
    [[ -n $token ]] || die "no development admin token (name: dev) found in $DEV_YAML"
    echo "$token"
}

# ---------------------------------------------------------------- processes

# Prints the pid when the process in the part's pid file is alive, is COMMAND and was started on this state
# directory (a pid file outlives a killed process, and pids get reused).
live_pid() {
    local part=$1 pidfile=$RUN/$1/pid command pid stat cmdline
    case $part in
    redis) command=redis-server ;;
    haproxy) command=haproxy ;;
    node*) command=java ;;
    esac
    [[ -r $pidfile ]] || return 1
    pid=$(tr -d ' \n' <"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ $stat == "$pid ($command) "[!Z]* ]] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    # redis-server rewrites its command line to "redis-server 127.0.0.1:PORT" once it runs
    [[ $cmdline == *"$RUN/$part/"* || ($part == redis && $cmdline == *" 127.0.0.1:$REDIS_PORT"*) ]] || return 1
    echo "$pid"
}

# Whether the process spawn() started for PART is still there (from the first instant: before it exec'd, its name
# and command line are not yet the program's).
spawned_alive() {
    local pid
    pid=$(cat "$RUN/$1/pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ && $(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) == [!Z] ]]
}

# spawn PART COMMAND...: runs COMMAND in the background in a session of its own (a Ctrl-C in the terminal that
# started it does not reach it), with no inherited descriptors: a caller that reads our output to its end (a test
# harness, "| tee") would otherwise wait for the daemon. Its output goes to the part's log.
spawn() {
    local part=$1
    shift
    setsid "$@" </dev/null >>"$RUN/$part/$part.log" 2>&1 8>&- &
    echo $! >"$RUN/$part/pid"
}

# Fails when another program holds one of the part's ports: starting would only fail later, less clearly.
check_ports_free() {
    local part=$1 port
    for port in $(part_ports "$part"); do
        if port_in_use "$port"; then
            die "$part: port $port is in use by another program (ss -ltnp 'sport = :$port')"
        fi
    done
}

tail_log() {
    local file=$RUN/$1/$1.log
    [[ -s $file ]] || return 0
    echo "---- last lines of $file" >&2
    tail -n 30 "$file" >&2
}

# wait_for PART WHAT COMMAND...: polls COMMAND until it succeeds, the part's process dies, or the deadline passes.
wait_for() {
    local part=$1 what=$2 deadline=$((SECONDS + TIMEOUT))
    shift 2
    until "$@"; do
        if ! spawned_alive "$part"; then
            tail_log "$part"
            die "$part exited before $what"
        fi
        if ((SECONDS >= deadline)); then
            tail_log "$part"
            die "$part: no $what after ${TIMEOUT}s"
        fi
        sleep 0.1
    done
}

# The status code of an HTTP GET on loopback (no curl needed); fails when nothing answers.
http_status() {
    local port=$1 path=$2 line
    line=$(
        exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
        printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
        IFS= read -r -t 2 line <&3 && echo "$line"
    ) 2>/dev/null || return 1
    line=${line%$'\r'}
    [[ $line == HTTP/1.?\ * ]] || return 1
    echo "${line:9:3}"
}

# One line about the node on admin port $1: "HTTP-STATUS ROUTE-STORE REVISION" (its /readyz and /api/v1/revision).
node_info() {
    python3 - "$1" "$(admin_token)" <<'EOF'
import json, sys, urllib.error, urllib.request
port, token = sys.argv[1], sys.argv[2]
def get(path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=2) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
try:
    status, ready = get("/readyz")
    print(status, ready.get("route-store", "?"), get("/api/v1/revision")[1].get("revision", "?"))
except Exception:
    print("no-answer ? ?")
EOF
}

ready() { [[ $(http_status "$1" /readyz) == 200 ]]; }

redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
redis_up() { [[ $(redis_cli PING 2>/dev/null) == PONG ]]; }

# HAProxy's "show stat" as "proxy server status" lines (servers only).
haproxy_servers() {
    python3 - "$RUN/haproxy/admin.sock" <<'EOF'
import csv, io, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
rows = csv.reader(io.StringIO(data.decode().lstrip("# ")))
header = next(rows)
px, sv, st = header.index("pxname"), header.index("svname"), header.index("status")
for row in rows:
    if len(row) > st and row[sv] not in ("FRONTEND", "BACKEND"):
        print(row[px], row[sv], row[st])
EOF
}

# True when HAProxy's checks see every node up in both backends.
haproxy_all_up() {
    local states
    states=$(haproxy_servers 2>/dev/null) || return 1
    (($(grep -c ' UP$' <<<"$states") == 2 * ${#NODES[@]}))
}

# ---------------------------------------------------------------- parts

require_tools() {
    ((EUID == 0)) || die "must run as root (the dev backends start Dovecot and Postfix as root)"
    local cmd
    for cmd in redis-server redis-cli haproxy java python3 openssl setsid; do
        command -v "$cmd" >/dev/null || die "missing command: $cmd (apt-get install redis-server haproxy openssl python3)"
    done
    [[ -r $TEMPLATE ]] || die "missing $TEMPLATE"
}

ensure_jar() {
    [[ -f $JAR ]] && return
    log "building $JAR (mvn -B -q -pl proxy -am package -DskipTests)"
    (cd "$REPO_DIR" && mvn -B -q -pl proxy -am package -DskipTests) >"$RUN/build.log" 2>&1 ||
        { tail -n 30 "$RUN/build.log" >&2; die "the build failed (log: $RUN/build.log)"; }
}

ensure_certificate() {
    local dir=$RUN/tls
    [[ -s $dir/cert.pem && -s $dir/key.pem ]] && return
    install -d -m 0700 "$dir"
    log "generating a self-signed certificate for localhost (one for every node)"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -sha256 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$dir/key.pem.tmp" -out "$dir/cert.pem.tmp" 2>/dev/null
    chmod 0600 "$dir/key.pem.tmp"
    chmod 0644 "$dir/cert.pem.tmp"
    mv "$dir/key.pem.tmp" "$dir/key.pem"
    mv "$dir/cert.pem.tmp" "$dir/cert.pem"
}

ensure_backends() {
    if "$BACKENDS" status >/dev/null 2>&1; then
        return
    fi
    log "starting the dev backends (scripts/dev-backends.sh start)"
    # 8>&-: the servers must not inherit our lock
    "$BACKENDS" start >"$RUN/backends.log" 2>&1 8>&- || { cat "$RUN/backends.log" >&2; die "the dev backends did not start"; }
    # stop them again at "stop": they were not running before. Which ones is kept with it: "stop" must stop these
    # even when it runs with other POSTERN_BACKENDS_* settings (or none).
    printf '%s\n' "${POSTERN_BACKENDS_DIR:-}" "${POSTERN_BACKENDS_PORT_OFFSET:-}" >"$RUN/backends.started"
}

start_redis() {
    local dir=$RUN/redis
    install -d -m 0700 "$dir"
    cat >"$dir/redis.conf" <<EOF
# Written by scripts/dev-cluster.sh: the cluster's private Redis, loopback only.
port $REDIS_PORT
bind 127.0.0.1
daemonize no
dir $dir
appendonly yes
appendfsync everysec
save ""
loglevel notice
EOF
    check_ports_free redis
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    spawn redis redis-server "$dir/redis.conf"
}

render_node() {
    local node=$1 content name
    local NODE=$node IMAPS_PORT=${IMAPS[$node]} POP3S_PORT=${POP3S[$node]} ADMIN_PORT=${ADMIN[$node]}
    local TLS_CERT=$RUN/tls/cert.pem TLS_KEY=$RUN/tls/key.pem ROUTE_FILE=$RUN/$node/routes.json
    local ADMIN_TOKEN
    ADMIN_TOKEN=$(admin_token)
    content=$(<"$TEMPLATE")
    for name in NODE IMAPS_PORT POP3S_PORT ADMIN_PORT TLS_CERT TLS_KEY ROUTE_FILE ADMIN_TOKEN REDIS_PORT \
        BACKEND_IMAP_PORT BACKEND_POP3_PORT; do
        content=${content//@${name}@/${!name}}
    done
    if [[ $content =~ @[A-Z_]+@ ]]; then
        die "$TEMPLATE: unknown token ${BASH_REMATCH[0]}"
    fi
    printf '%s\n' "$content" >"$RUN/$node/postern.yaml"
}

start_node() {
    local node=$1
    install -d -m 0755 "$RUN/$node"
    render_node "$node"
    check_ports_free "$node"
    log "starting $node (IMAPS ${IMAPS[$node]}, POP3S ${POP3S[$node]}, admin ${ADMIN[$node]})"
    POSTERN_JAR=$JAR spawn "$node" "$REPO_DIR/bin/postern" --config "$RUN/$node/postern.yaml"
}

start_haproxy() {
    local dir=$RUN/haproxy node n backend port
    install -d -m 0755 "$dir"
    {
        cat <<EOF
# Written by scripts/dev-cluster.sh: the cluster's balancer. TCP only: TLS goes through to the nodes untouched,
# with a PROXY v2 header in front that names the client; each node is checked on its admin API's /readyz.
global
    maxconn 2000
    stats socket $dir/admin.sock mode 600 level admin
    stats timeout 10s
    log stderr format short local0 info
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 2s
    # a connection refused by a node that died goes to another one
    retries 2
    option redispatch
frontend imaps
    bind 127.0.0.1:$LB_IMAPS
    default_backend postern-imaps
frontend pop3s
    bind 127.0.0.1:$LB_POP3S
    default_backend postern-pop3s
EOF
        for backend in imaps pop3s; do
            cat <<EOF
backend postern-$backend
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server check inter 1s fall 2 rise 2 send-proxy-v2
EOF
            for node in "${NODES[@]}"; do
                [[ $backend == imaps ]] && port=${IMAPS[$node]} || port=${POP3S[$node]}
                echo "    server $node 127.0.0.1:$port check port ${ADMIN[$node]}"
            done
        done
    } >"$dir/haproxy.cfg"
    haproxy -c -q -f "$dir/haproxy.cfg" || die "haproxy -c refused $dir/haproxy.cfg"
    check_ports_free haproxy
    log "starting HAProxy (IMAPS $LB_IMAPS, POP3S $LB_POP3S)"
    rm -f "$dir/admin.sock"
    spawn haproxy haproxy -db -f "$dir/haproxy.cfg"
}

# HAProxy binds every listener before it serves any, so a stats socket that answers means the ports are open too.
# (A probe connection to 4993 would be forwarded to a node, which would log a session for it.)
haproxy_listening() {
    [[ -S $RUN/haproxy/admin.sock ]] && haproxy_servers >/dev/null 2>&1
}

# stop_parts PART...: SIGTERM to each that runs, then waits for all of them (SIGKILL after the deadline). Fails
# when none was running.
stop_parts() {
    local part pid deadline pids=() names=() i
    for part in "$@"; do
        if pid=$(live_pid "$part"); then
            log "stopping $part (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid") names+=("$part")
        fi
        rm -f "$RUN/$part/pid"
    done
    ((${#pids[@]})) || return 1
    deadline=$((SECONDS + TIMEOUT))
    for i in "${!pids[@]}"; do
        pid=${pids[$i]}
        while kill -0 "$pid" 2>/dev/null && [[ $(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) != Z ]]; do
            if ((SECONDS >= deadline)); then
                log "${names[$i]} (pid $pid) still running after ${TIMEOUT}s: SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.1
        done
    done
}

# ---------------------------------------------------------------- commands

take_lock() {
    install -d -m 0755 "$RUN"
    exec 8>"$RUN/.lock"
    flock -w "$TIMEOUT" 8 || die "another dev-cluster.sh holds $RUN/.lock"
}

# The PARTs named on the command line, or all; refuses unknown names.
selected_parts() {
    local part
    if (($# == 0)); then
        echo "${PARTS[@]}"
        return
    fi
    for part in "$@"; do
        [[ " ${PARTS[*]} " == *" $part "* ]] || die "unknown part '$part' (parts: ${PARTS[*]})"
    done
    echo "$@"
}

wanted() { [[ " $SELECTED " == *" $1 "* ]]; }

cmd_start() {
    local started=$SECONDS part
    take_lock
    ensure_jar
    ensure_certificate
    ensure_backends
    write_ports_env
    # Redis first: a node that finds it at start takes the shared table at once instead of its file
    if wanted redis && ! live_pid redis >/dev/null; then
        start_redis
        wait_for redis "PONG from Redis" redis_up
    fi
    # the nodes start side by side (a JVM's start is the slow part)
    for part in "${NODES[@]}"; do
        if wanted "$part" && ! live_pid "$part" >/dev/null; then
            start_node "$part"
        fi
    done
    for part in "${NODES[@]}"; do
        wanted "$part" && wait_for "$part" "200 from /readyz on ${ADMIN[$part]}" ready "${ADMIN[$part]}"
    done
    if wanted haproxy && ! live_pid haproxy >/dev/null; then
        start_haproxy
        wait_for haproxy "listeners" haproxy_listening
    fi
    # only a whole cluster has every check passing; a partial start waits for what it started
    if live_pid haproxy >/dev/null && live_pid node1 >/dev/null && live_pid node2 >/dev/null &&
        live_pid node3 >/dev/null; then
        wait_for haproxy "health checks passing for every node" haproxy_all_up
    fi
    log "up in $((SECONDS - started))s"
    cmd_status || true
}

cmd_stop() {
    local stopped= part group parts dir offset
    if [[ ! -d $RUN ]]; then
        log "not running (no $RUN)"
        return
    fi
    take_lock
    # the balancer first, so that nothing new reaches a node being stopped; Redis after the nodes
    for group in haproxy "${NODES[*]}" redis; do
        parts=()
        for part in $group; do
            wanted "$part" && parts+=("$part")
        done
        ((${#parts[@]})) && stop_parts "${parts[@]}" && stopped=yes
    done
    if [[ $SELECTED == "${PARTS[*]}" && -e $RUN/backends.started ]]; then
        log "stopping the dev backends (this script started them)"
        {
            read -r dir || true
            read -r offset || true
        } <"$RUN/backends.started"
        (
            [[ -n ${dir:-} ]] && export POSTERN_BACKENDS_DIR=$dir || unset POSTERN_BACKENDS_DIR
            [[ -n ${offset:-} ]] && export POSTERN_BACKENDS_PORT_OFFSET=$offset || unset POSTERN_BACKENDS_PORT_OFFSET
            "$BACKENDS" stop >>"$RUN/backends.log" 2>&1 8>&-
        ) || log "dev-backends.sh stop failed (log: $RUN/backends.log)"
        rm -f "$RUN/backends.started"
        stopped=yes
    fi
    [[ -n $stopped ]] && log "stopped" || log "not running"
}

cmd_status() {
    local rc=0 pid state node code store revision
    echo "Postern dev cluster (state $RUN)"
    if pid=$(live_pid redis) && redis_up; then
        printf '  %-8s up    pid %-7s 127.0.0.1:%s, routing table at revision %s\n' redis "$pid" "$REDIS_PORT" \
            "$(redis_cli HGET postern:routes revision 2>/dev/null || echo '?')"
    else
        printf '  %-8s down  %s\n' redis "$([[ -n ${pid:-} ]] && echo "pid $pid, no PONG" || echo "not running")"
        rc=1
    fi
    for node in "${NODES[@]}"; do
        if ! pid=$(live_pid "$node"); then
            printf '  %-8s down  not running\n' "$node"
            rc=1
            continue
        fi
        read -r code store revision <<<"$(node_info "${ADMIN[$node]}")"
        if [[ $code == 200 ]]; then
            state=up
        else
            state="down ($code)"
            rc=1
        fi
        printf '  %-8s %-5s pid %-7s IMAPS %s POP3S %s admin %s, route store %s, revision %s\n' "$node" "$state" \
            "$pid" "${IMAPS[$node]}" "${POP3S[$node]}" "${ADMIN[$node]}" "$store" "$revision"
    done
    if pid=$(live_pid haproxy) && state=$(haproxy_servers 2>/dev/null); then
        printf '  %-8s up    pid %-7s IMAPS %s POP3S %s; checks: %s\n' haproxy "$pid" "$LB_IMAPS" "$LB_POP3S" \
            "$(awk '{sub("postern-", "", $1); printf "%s%s/%s %s", (NR > 1 ? ", " : ""), $1, $2, $3}' <<<"$state")"
        grep -qv ' UP$' <<<"$state" && rc=1
    else
        printf '  %-8s down  not running\n' haproxy
        rc=1
    fi
    printf '  %-8s %s\n' backends "$("$BACKENDS" status >/dev/null 2>&1 && echo up || echo down)$(
        [[ -e $RUN/backends.started ]] && echo " (started by dev-cluster.sh)")"
    echo "  logs: $RUN/*/*.log; ports: $RUN/ports.env"
    return "$rc"
}

main() {
    validate_settings
    compute_ports
    local command=${1:-}
    (($#)) && shift
    case $command in
    start)
        require_tools
        SELECTED=$(selected_parts "$@")
        install -d -m 0755 "$RUN"
        cmd_start
        ;;
    stop)
        require_tools
        SELECTED=$(selected_parts "$@")
        cmd_stop
        ;;
    status)
        (($# == 0)) || die "status takes no parts"
        cmd_status
        ;;
    *)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
        exit 2
        ;;
    esac
}

main "$@"
