#!/usr/bin/env bash
# Postern beside nginx's mail proxy and HAProxy, on this machine, against the same real Dovecot and Postfix.
#
# Usage: benchmarks/compare.sh [--quick] [--repeat N] [--duration S] [--idle-sessions N] [--capacity N]
#                              [--only VARIANT,...] [--targets T,...] [--no-build] [--keep]
#                              [--extra E,...] [--warmup S | --steady-state] [--quiet S]
#
#   --quick            a smoke run of a few seconds per measurement, 1 repeat, 100 idle sessions, no capacity run
#   --repeat N         rounds of every measurement (default 3); the report shows the median and min-max
#   --duration S       seconds of load per measurement (default 20)
#   --idle-sessions N  sessions held per proxy for the memory figure (default 1000)
#   --capacity N       afterwards, hold N idle TLS sessions through each proxy once (default 9900; 0 = skip)
#   --only LIST        variants to run, e.g. imap-login/implicit,imap-idle/implicit,capacity (default: all); the
#                      other variants' rows of the last run are kept for the report
#   --targets LIST     direct,nginx,haproxy,postern-tcp,postern (default: all that this build supports)
#   --no-build         use the jars already in proxy/target and benchmarks/target
#   --keep             leave the proxies and the private backends running at the end
#   --extra LIST       more Postern processes (IMAP/POP3/SMTP listeners, implicit TLS only), measured beside the
#                      others in every round: postern-tiered (C1 and C2, JDK 17), postern-jdk25 (Temurin 25 at
#                      $JDK25, default flags plus -XX:+UseCompactObjectHeaders), postern-jdk25-tiered,
#                      postern-iouring (default flags, transport: io_uring; a host without io_uring runs epoll,
#                      and the start says so)
#   --warmup S         steady-state mode: before measuring, load every Postern (IMAPS, POP3S and SMTPS logins) in
#                      cycles until its JIT has compiled nothing for --quiet seconds of its own load (counted in its
#                      -Xlog:jit+compilation log, benchmarks/run/NAME/jit.log, and its compiler threads' CPU), at
#                      most S seconds in all; the warm-up is recorded in benchmarks/results/compare-warmup.txt
#   --steady-state     --warmup 900
#   --quiet S          the quiet window of --warmup (default 30)
#   --quiet-max N      a cycle with at most N compilations logged counts as quiet (default 0)
#   --quiet-cpu PCT    ... or one whose compiler threads used at most PCT % of the process's CPU (default: off)
#
# Writes benchmarks/RESULTS.md (the tables; benchmarks/results-notes.md is appended as the findings),
# benchmarks/results/compare-latest.{jsonl,env} (the raw measurements) and benchmarks/run/ (configs, logs;
# git-ignored).
#
# Needs (Debian packages): nginx libnginx-mod-mail haproxy openssl python3 default-jre-headless (17+), and what
# scripts/dev-backends.sh needs (dovecot-imapd dovecot-pop3d dovecot-submissiond postfix). Run as root (the
# backends drop privileges themselves). It installs nothing.
#
# What runs, all on 127.0.0.1:
#   backends     a private instance of scripts/dev-backends.sh (state benchmarks/run/backends, ports +30000:
#                IMAP 32143, IMAPS 32993, POP3 32110, POP3S 32995, submission 32587, Postfix 32025), with raised
#                Dovecot limits (benchmarks/run/backends/dovecot-extra.conf): it holds thousands of sessions of
#                one user, which the shared dev instance must not be asked to do while others' tests use it.
#   nginx        mail module, 2 workers: IMAP/POP3/SMTP with implicit TLS and with STARTTLS; its auth_http
#                endpoint is an http{} server in the same nginx answering OK (headers only, no extra process)
#   haproxy      mode tcp, nbthread 2: TLS offload only (implicit TLS in, plain to the backend)
#   postern-tcp  Postern with tcp listeners (TLS termination and relay: what HAProxy does here)
#   postern      Postern with imap/pop3/smtp listeners (what nginx does), when the build supports them
# All present the same ECDSA P-256 certificate; clients negotiate TLS 1.3 with a full handshake every time.
# Each proxy may use both cores. The figures per operation come from /proc: CPU time (schedstat, summed over the
# process tree: nginx's master and workers) and VmRSS, sampled right before and after each measurement.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/benchmarks
RUN=$BENCH/run
RESULTS=$RUN/results.jsonl

REPEAT=3
DURATION=20
IDLE_SESSIONS=1000
CAPACITY=9900
ONLY=
TARGETS=
BUILD=1
KEEP=0
QUICK=0
EXTRA=
WARMUP=0
QUIET=30
QUIET_MAX=0
QUIET_CPU=
JDK25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}

while (($#)); do
    case $1 in
    --quick) QUICK=1 REPEAT=1 DURATION=4 IDLE_SESSIONS=100 CAPACITY=0 ;;
    --repeat) REPEAT=$2 && shift ;;
    --duration) DURATION=$2 && shift ;;
    --idle-sessions) IDLE_SESSIONS=$2 && shift ;;
    --capacity) CAPACITY=$2 && shift ;;
    --only) ONLY=$2 && shift ;;
    --targets) TARGETS=$2 && shift ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    --extra) EXTRA=$2 && shift ;;
    --warmup) WARMUP=$2 && shift ;;
    --steady-state) WARMUP=900 ;;
    --quiet) QUIET=$2 && shift ;;
    --quiet-max) QUIET_MAX=$2 && shift ;;
    --quiet-cpu) QUIET_CPU=$2 && shift ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "compare: unknown argument '$1' (see --help)" >&2
        exit 1
        ;;
    esac
    shift
done

die() {
    echo "compare: $*" >&2
    exit 1
}
say() { echo "compare: $*" >&2; }

# ---------------------------------------------------------------- prerequisites

missing=()
# nginx is needed only when it is measured (--targets without nginx runs without it)
need_nginx=1
[[ -z $TARGETS || ,$TARGETS, == *,nginx,* ]] || need_nginx=0
for tool in haproxy openssl python3 java dovecot postfix; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((need_nginx)); then
    command -v nginx >/dev/null 2>&1 || missing+=(nginx)
    [[ -e /usr/lib/nginx/modules/ngx_mail_module.so ]] || missing+=("libnginx-mod-mail")
fi
if ((${#missing[@]})); then
    die "missing: ${missing[*]}; install with: apt-get install nginx libnginx-mod-mail haproxy openssl python3" \
        "default-jre-headless dovecot-imapd dovecot-pop3d dovecot-submissiond postfix"
fi
((EUID == 0)) || die "run as root (the private Dovecot and Postfix start as root and drop privileges)"

# Every proxy and the generator may hold a socket per session; the hard limit here is 20000 per process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(($(ulimit -n) >= 20000)) || say "open files limit is $(ulimit -n); the idle and capacity runs may be cut short"

mkdir -p "$RUN"
if ((BUILD)); then
    say "building proxy/target/postern.jar and benchmarks/target/postern-load.jar"
    (cd "$ROOT" && mvn -B -q -pl benchmarks -am package -DskipTests) >"$RUN/build.log" 2>&1 ||
        { tail -30 "$RUN/build.log" >&2; die "build failed (log: $RUN/build.log)"; }
fi
LOAD_JAR=$BENCH/target/postern-load.jar
[[ -f $LOAD_JAR ]] || die "$LOAD_JAR is missing (run without --no-build)"
[[ -f $ROOT/proxy/target/postern.jar ]] || die "proxy/target/postern.jar is missing (run without --no-build)"

# ---------------------------------------------------------------- ports
# All below 32768: ports in the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 here) can be
# taken at any moment by an outgoing connection, and a listener then fails to bind.

BACKEND_OFFSET=30000
B_IMAP=$((2143 + BACKEND_OFFSET)) B_IMAPS=$((2993 + BACKEND_OFFSET))
B_POP3=$((2110 + BACKEND_OFFSET)) B_POP3S=$((2995 + BACKEND_OFFSET))
B_SUBMISSION=$((2587 + BACKEND_OFFSET)) B_SMTP=$((2025 + BACKEND_OFFSET))
NGINX_AUTH=20080

# port TARGET PROTOCOL TLS -> the port, or nothing when the target does not offer that combination
port() {
    local target=$1 proto=$2 tls=$3
    case $target/$proto/$tls in
    direct/imap/implicit) echo $B_IMAPS ;;
    direct/imap/starttls) echo $B_IMAP ;;
    direct/pop3/implicit) echo $B_POP3S ;;
    direct/pop3/starttls) echo $B_POP3 ;;
    direct/smtp/starttls) echo $B_SUBMISSION ;;
    nginx/imap/implicit) echo 20993 ;;
    nginx/imap/starttls) echo 20143 ;;
    nginx/pop3/implicit) echo 20995 ;;
    nginx/pop3/starttls) echo 20110 ;;
    nginx/smtp/implicit) echo 20465 ;;
    nginx/smtp/starttls) echo 20587 ;;
    haproxy/imap/implicit) echo 21993 ;;
    haproxy/pop3/implicit) echo 21995 ;;
    haproxy/smtp/implicit) echo 21465 ;;
    postern-tcp/imap/implicit) echo 22993 ;;
    postern-tcp/pop3/implicit) echo 22995 ;;
    postern-tcp/smtp/implicit) echo 22465 ;;
    postern/imap/implicit) echo 23993 ;;
    postern/imap/starttls) echo 23143 ;;
    postern/pop3/implicit) echo 23995 ;;
    postern/pop3/starttls) echo 23110 ;;
    postern/smtp/implicit) echo 23465 ;;
    postern/smtp/starttls) echo 23587 ;;
    postern-*/*/implicit)
        local base
        base=$(extra_base "$target") || return 0
        case $proto in imap) echo $((base + 993)) ;; pop3) echo $((base + 995)) ;; smtp) echo $((base + 465)) ;; esac
        ;;
    esac
}

# The extra Postern processes of --extra: each a port base (24000, 25000, ...), a java and flags
EXTRAS=(postern-tiered postern-jdk25 postern-jdk25-tiered postern-iouring)
DEFAULT_FLAGS=$(sed -n 's/^JAVA_FLAGS_DEFAULT="\(.*\)"$/\1/p' "$ROOT/bin/postern")
extra_base() {
    local i
    for i in "${!EXTRAS[@]}"; do
        [[ ${EXTRAS[$i]} == "$1" ]] && echo $((24000 + 1000 * i)) && return 0
    done
    return 1
}
extra_java() {
    case $1 in
    postern-jdk25*) echo "$JDK25/bin/java" ;;
    *) echo java ;;
    esac
}
extra_flags() {
    local flags=$DEFAULT_FLAGS
    [[ $1 == *-tiered ]] && flags=${flags//-XX:TieredStopAtLevel=1 /}
    [[ $1 == postern-jdk25* ]] && flags="$flags -XX:+UseCompactObjectHeaders --enable-native-access=ALL-UNNAMED"
    echo "$flags"
}
# extra_config NAME: what the extra's configuration adds to the common one
extra_config() {
    [[ $1 != postern-iouring ]] || echo "transport: io_uring"
}

# ---------------------------------------------------------------- backends

export POSTERN_BACKENDS_DIR=$RUN/backends POSTERN_BACKENDS_PORT_OFFSET=$BACKEND_OFFSET
mkdir -p "$POSTERN_BACKENDS_DIR"
# Included by scripts/backends/dovecot.conf.in (!include_try): login processes in performance mode, imap
# processes serving many sessions each (an idle IMAP session costs Dovecot about 250 KB of address space, hence
# vsz_limit), no per-user connection cap, and an auth cache (SHA512-CRYPT costs ms per login).
cat >"$POSTERN_BACKENDS_DIR/dovecot-extra.conf.new" <<'EOF'
# Written by benchmarks/compare.sh for its private backend instance.
auth_cache_size = 10M
auth_cache_ttl = 1 hour
service imap-login {
  service_count = 0
  process_min_avail = 2
  process_limit = 4
  client_limit = 6000
}
service pop3-login {
  service_count = 0
  process_min_avail = 1
  process_limit = 4
  client_limit = 1000
}
service submission-login {
  service_count = 0
  process_min_avail = 1
  process_limit = 4
  client_limit = 1000
}
service imap {
  service_count = 0
  client_limit = 250
  process_limit = 60
  process_min_avail = 2
  vsz_limit = 1G
}
service anvil {
  client_limit = 15000
}
service auth {
  client_limit = 15000
}
protocol imap {
  mail_max_userip_connections = 100000
}
protocol pop3 {
  mail_max_userip_connections = 100000
}
EOF
extra_changed=0
cmp -s "$POSTERN_BACKENDS_DIR/dovecot-extra.conf.new" "$POSTERN_BACKENDS_DIR/dovecot-extra.conf" || extra_changed=1
mv "$POSTERN_BACKENDS_DIR/dovecot-extra.conf.new" "$POSTERN_BACKENDS_DIR/dovecot-extra.conf"
say "starting the private backends (offset $BACKEND_OFFSET, state $POSTERN_BACKENDS_DIR)"
"$ROOT/scripts/dev-backends.sh" start >"$RUN/backends.log" 2>&1 ||
    { cat "$RUN/backends.log" >&2; die "the backends did not start"; }
if ((extra_changed)); then
    doveadm -c "$POSTERN_BACKENDS_DIR/dovecot/dovecot.conf" reload >/dev/null 2>&1 || true
fi
DOVECOT_PID=$(cat "$POSTERN_BACKENDS_DIR/dovecot/run/master.pid")
doveadm_() { "$ROOT/scripts/dev-backends.sh" doveadm "$@"; }

# A large message for imap-fetch-big, alone in alice's mailbox "bench-big".
BIG_SIZE=$((8 * 1024 * 1024))
big_count=$(doveadm_ mailbox status -u alice@example.test messages bench-big 2>/dev/null | sed -n 's/.*messages=//p' || true)
if [[ $big_count != 1 ]]; then
    say "storing an 8 MiB message in alice's bench-big"
    doveadm_ mailbox delete -u alice@example.test bench-big >/dev/null 2>&1 || true
    doveadm_ mailbox create -u alice@example.test bench-big
    python3 - "$BIG_SIZE" >"$RUN/big.eml" <<'EOF'
import sys
size = int(sys.argv[1])
head = b"From: bench@example.test\r\nTo: alice@example.test\r\nSubject: bench-big\r\n\r\n"
line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd\r\n"
body = bytearray(head)
while len(body) + len(line) <= size:
    body += line
body += b"x" * (size - len(body))
sys.stdout.buffer.write(bytes(body))
EOF
    doveadm_ save -u alice@example.test -m bench-big <"$RUN/big.eml"
fi
# The literal Dovecot returns for BODY.PEEK[] (its stored size, CRLF line endings).
BIG_BYTES=$(doveadm_ fetch -u alice@example.test size.virtual mailbox bench-big 1 | sed -n "s/^size.virtual: //p")
[[ $BIG_BYTES =~ ^[0-9]+$ ]] || die "cannot read the size of the bench-big message"

# ---------------------------------------------------------------- certificate

TLS=$RUN/tls
mkdir -p "$TLS"
if [[ ! -s $TLS/cert.pem ]]; then
    say "generating an ECDSA P-256 certificate"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
        -subj "/CN=mail.bench.test" -addext "subjectAltName=DNS:mail.bench.test,DNS:localhost" \
        -keyout "$TLS/key.pem" -out "$TLS/cert.pem" 2>/dev/null
    cat "$TLS/cert.pem" "$TLS/key.pem" >"$TLS/combined.pem"
fi

# ---------------------------------------------------------------- proxies

PIDS=()
cleanup() {
    ((KEEP)) && return
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    "$ROOT/scripts/dev-backends.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

wait_port() {
    local port=$1 pid=$2 name=$3 i
    for ((i = 0; i < 300; i++)); do
        if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    say "$name: port $port did not open"
    return 1
}

declare -A PID_OF VERSION_OF
AVAILABLE=(direct)
available() {
    [[ " ${AVAILABLE[*]} " == *" $1 "* ]] || AVAILABLE+=("$1")
}
PID_OF[direct]=$DOVECOT_PID

start_nginx() {
    local d=$RUN/nginx
    mkdir -p "$d"
    cat >"$d/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_mail_module.so;
worker_processes 2;
worker_rlimit_nofile 20000;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events {
    worker_connections 20000;
}
http {
    access_log off;
    client_body_temp_path $d/tmp;
    proxy_temp_path $d/tmp;
    fastcgi_temp_path $d/tmp;
    uwsgi_temp_path $d/tmp;
    scgi_temp_path $d/tmp;
    # The mail module's auth_http endpoint: everyone is OK, and goes to the backend of the protocol.
    map \$http_auth_protocol \$bench_port {
        imap $B_IMAP;
        pop3 $B_POP3;
        smtp $B_SMTP;
    }
    server {
        listen 127.0.0.1:$NGINX_AUTH;
        location = /auth {
            add_header Auth-Status OK;
            add_header Auth-Server 127.0.0.1;
            add_header Auth-Port \$bench_port;
            return 200;
        }
    }
}
mail {
    auth_http 127.0.0.1:$NGINX_AUTH/auth;
    ssl_certificate $TLS/cert.pem;
    ssl_certificate_key $TLS/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    imap_capabilities IMAP4rev1 LITERAL+ SASL-IR IDLE;
    pop3_auth plain;
    smtp_auth plain login;
    # SMTP goes to Postfix (it relays for example.test) with XCLIENT: nginx does not pass AUTH on.
    xclient on;
    proxy_pass_error_message on;
    server { listen 127.0.0.1:$(port nginx imap implicit) ssl; protocol imap; }
    server { listen 127.0.0.1:$(port nginx imap starttls); protocol imap; starttls only; }
    server { listen 127.0.0.1:$(port nginx pop3 implicit) ssl; protocol pop3; }
    server { listen 127.0.0.1:$(port nginx pop3 starttls); protocol pop3; starttls only; }
    server { listen 127.0.0.1:$(port nginx smtp implicit) ssl; protocol smtp; }
    server { listen 127.0.0.1:$(port nginx smtp starttls); protocol smtp; starttls only; }
}
EOF
    mkdir -p "$d/tmp"
    nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/stdout.log" 2>&1 &
    PID_OF[nginx]=$!
    PIDS+=($!)
    wait_port "$(port nginx imap implicit)" "${PID_OF[nginx]}" nginx && wait_port $NGINX_AUTH "${PID_OF[nginx]}" nginx &&
        sleep 0.5 && kill -0 "${PID_OF[nginx]}" 2>/dev/null || { tail -5 "$d/error.log" >&2; die "nginx did not start"; }
    available nginx
    VERSION_OF[nginx]=$(nginx -v 2>&1 | sed 's/^nginx version: nginx\///')
}

start_haproxy() {
    local d=$RUN/haproxy
    mkdir -p "$d"
    cat >"$d/haproxy.cfg" <<EOF
global
    maxconn 9990
    nbthread 2
    ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
    mode tcp
    timeout connect 5s
    timeout client 30m
    timeout server 30m
frontend imaps
    bind 127.0.0.1:$(port haproxy imap implicit) ssl crt $TLS/combined.pem
    default_backend imap
frontend pop3s
    bind 127.0.0.1:$(port haproxy pop3 implicit) ssl crt $TLS/combined.pem
    default_backend pop3
frontend smtps
    bind 127.0.0.1:$(port haproxy smtp implicit) ssl crt $TLS/combined.pem
    default_backend submission
backend imap
    server dovecot 127.0.0.1:$B_IMAP
backend pop3
    server dovecot 127.0.0.1:$B_POP3
backend submission
    server dovecot 127.0.0.1:$B_SUBMISSION
EOF
    haproxy -db -f "$d/haproxy.cfg" >"$d/haproxy.log" 2>&1 &
    PID_OF[haproxy]=$!
    PIDS+=($!)
    wait_port "$(port haproxy imap implicit)" "${PID_OF[haproxy]}" haproxy || { cat "$d/haproxy.log" >&2; die "haproxy did not start"; }
    available haproxy
    VERSION_OF[haproxy]=$(haproxy -v | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p')
}

# start_postern NAME CONFIG: runs bin/postern; returns 2 when the build does not support the config's protocols
start_postern() {
    local name=$1 d=$RUN/$1
    postern_bin=$ROOT/bin/postern
    [[ -x $postern_bin ]] || die "$postern_bin is missing"
    local jit_opts=
    ((WARMUP > 0)) && jit_opts="-Xlog:jit+compilation=debug:file=$d/jit.log"
    if [[ $name == postern-?* && $name != postern-tcp ]]; then
        POSTERN_JAVA=$(extra_java "$name") POSTERN_JAVA_FLAGS=$(extra_flags "$name") \
            POSTERN_JAVA_OPTS="${POSTERN_JAVA_OPTS:-} $jit_opts" "$postern_bin" --config "$d/postern.yaml" >"$d/postern.log" 2>&1 &
    else
        POSTERN_JAVA_OPTS="${POSTERN_JAVA_OPTS:-} $jit_opts" "$postern_bin" --config "$d/postern.yaml" >"$d/postern.log" 2>&1 &
    fi
    local pid=$!
    if ! wait_port "$2" "$pid" "$name"; then
        if grep -q "is not supported by this build" "$d/postern.log"; then
            say "$name: skipped: $(grep -m1 'not supported' "$d/postern.log")"
            return 2
        fi
        cat "$d/postern.log" >&2
        die "$name did not start"
    fi
    PID_OF[$name]=$pid
    PIDS+=("$pid")
    available "$name"
}

postern_common() {
    cat <<EOF
tls:
  protocols: [TLSv1.3, TLSv1.2]
  certificates:
    - {name: bench, cert: $TLS/cert.pem, key: $TLS/key.pem}
timeouts:
  idle: 30m
limits:
  pre-auth-connections-per-client: 0   # every load client is 127.0.0.1
EOF
}

start_postern_tcp() {
    local d=$RUN/postern-tcp
    mkdir -p "$d"
    {
        cat <<EOF
listeners:
  - {name: imaps, protocol: tcp, bind: "127.0.0.1:$(port postern-tcp imap implicit)", tls: implicit, pool: imap}
  - {name: pop3s, protocol: tcp, bind: "127.0.0.1:$(port postern-tcp pop3 implicit)", tls: implicit, pool: pop3}
  - {name: smtps, protocol: tcp, bind: "127.0.0.1:$(port postern-tcp smtp implicit)", tls: implicit, pool: submission}
pools:
  - {name: imap, backends: [{address: "127.0.0.1:$B_IMAP"}]}
  - {name: pop3, backends: [{address: "127.0.0.1:$B_POP3"}]}
  - {name: submission, backends: [{address: "127.0.0.1:$B_SUBMISSION"}]}
EOF
        postern_common
    } >"$d/postern.yaml"
    start_postern postern-tcp "$(port postern-tcp imap implicit)"
}

start_postern_mail() {
    local d=$RUN/postern
    mkdir -p "$d"
    {
        cat <<EOF
listeners:
  - {name: imaps, protocol: imap, bind: "127.0.0.1:$(port postern imap implicit)", tls: implicit, pool: dovecot}
  - {name: imap, protocol: imap, bind: "127.0.0.1:$(port postern imap starttls)", tls: starttls, pool: dovecot}
  - {name: pop3s, protocol: pop3, bind: "127.0.0.1:$(port postern pop3 implicit)", tls: implicit, pool: dovecot}
  - {name: pop3, protocol: pop3, bind: "127.0.0.1:$(port postern pop3 starttls)", tls: starttls, pool: dovecot}
  - {name: smtps, protocol: smtp, bind: "127.0.0.1:$(port postern smtp implicit)", tls: implicit, pool: submission}
  - {name: smtp, protocol: smtp, bind: "127.0.0.1:$(port postern smtp starttls)", tls: starttls, pool: submission}
pools:
  - {name: dovecot, backends: [{host: 127.0.0.1, ports: {imap: $B_IMAP, pop3: $B_POP3}}]}
  - {name: submission, backends: [{address: "127.0.0.1:$B_SUBMISSION"}]}
EOF
        postern_common
    } >"$d/postern.yaml"
    start_postern postern "$(port postern imap implicit)" || true
}

start_postern_extra() {
    local name=$1 d=$RUN/$1
    mkdir -p "$d"
    {
        cat <<EOF
listeners:
  - {name: imaps, protocol: imap, bind: "127.0.0.1:$(port "$name" imap implicit)", tls: implicit, pool: dovecot}
  - {name: pop3s, protocol: pop3, bind: "127.0.0.1:$(port "$name" pop3 implicit)", tls: implicit, pool: dovecot}
  - {name: smtps, protocol: smtp, bind: "127.0.0.1:$(port "$name" smtp implicit)", tls: implicit, pool: submission}
pools:
  - {name: dovecot, backends: [{host: 127.0.0.1, ports: {imap: $B_IMAP, pop3: $B_POP3}}]}
  - {name: submission, backends: [{address: "127.0.0.1:$B_SUBMISSION"}]}
EOF
        postern_common
        extra_config "$name"
    } >"$d/postern.yaml"
    start_postern "$name" "$(port "$name" imap implicit)" || true
    # the fallback from a transport that does not load is logged before the listeners bind
    if grep -q "was asked for, but" "$d/postern.log"; then
        say "$name: $(grep -m1 -o 'transport: .*' "$d/postern.log")"
    fi
}

# restart TARGET: a fresh process, so that its memory figures are not flattered or burdened by earlier runs
restart() {
    local target=$1 pid=${PID_OF[$1]}
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    case $target in
    nginx) start_nginx ;;
    haproxy) start_haproxy ;;
    postern-tcp) start_postern_tcp ;;
    postern) start_postern_mail ;;
    postern-?*) start_postern_extra "$target" ;;
    esac
}

wanted() { [[ -z $TARGETS || ,$TARGETS, == *,$1,* ]]; }
wanted nginx && start_nginx
wanted haproxy && start_haproxy
wanted postern-tcp && start_postern_tcp
wanted postern && start_postern_mail
for extra in ${EXTRA//,/ }; do
    extra_base "$extra" >/dev/null || die "--extra: unknown '$extra' (known: ${EXTRAS[*]})"
    [[ $extra != postern-jdk25* || -x $JDK25/bin/java ]] || die "--extra $extra: no $JDK25/bin/java"
    start_postern_extra "$extra"
done
wanted direct || AVAILABLE=("${AVAILABLE[@]:1}")
say "targets: ${AVAILABLE[*]}"

# ---------------------------------------------------------------- measurements

LOAD_JVM=(java -XX:+UseSerialGC -Xms256m -Xmx2g -XX:TieredStopAtLevel=1 -jar "$LOAD_JAR")

sample() { python3 "$BENCH/lib/proctree.py" "$1" | python3 -c 'import json,sys; print(json.dumps(list(json.load(sys.stdin).values())[0]))'; }

# record ROUND TARGET VARIANT BEFORE AFTER LOADJSON [DURING]
record() {
    printf '{"round":"%s","target":"%s","variant":"%s","before":%s,"after":%s,"during":%s,"load":%s}\n' \
        "$1" "$2" "$3" "$4" "$5" "${7:-null}" "$6" >>"$RESULTS"
}

load_args() { # SCENARIO TLS PORT TARGET
    local scenario=$1 tls=$2 port=$3 target=$4
    local args=("${scenario%-c1}" --port "$port" --tls "$tls" --label "$target" --duration "$DURATION")
    case $scenario in
    imap-login-c1) args+=(--concurrency 1) ;;
    imap-fetch-big)
        args+=(--concurrency 4 --users alice@example.test:alice-pw --mailbox bench-big --expect-bytes "$BIG_BYTES")
        ;;
    imap-login | pop3-login) args+=(--concurrency 32) ;;
    smtp-submit) args+=(--concurrency 16) ;;
    esac
    printf '%s\n' "${args[@]}"
}

# measure ROUND TARGET SCENARIO TLS
measure() {
    local round=$1 target=$2 scenario=$3 tls=$4 proto=${3%%-*} port before after out args
    port=$(port "$target" "$proto" "$tls")
    [[ -n $port ]] || return 0
    mapfile -t args < <(load_args "$scenario" "$tls" "$port" "$target")
    before=$(sample "${PID_OF[$target]}")
    out=$("${LOAD_JVM[@]}" "${args[@]}" 2>>"$RUN/load.log") || { say "load generator failed (log: $RUN/load.log)"; return 0; }
    after=$(sample "${PID_OF[$target]}")
    record "$round" "$target" "$scenario/$tls" "$before" "$after" "$out"
    say "round $round $target $scenario/$tls: $(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["ops"], "ops,", r["ops_per_s"], "ops/s, p50", r["latency_ms"]["p50"], "ms, errors", r["errors"], r["first_error"] or "")' "$out")"
}

# measure_idle ROUND TARGET SESSIONS HOLD_SECONDS: RSS with SESSIONS idle TLS IMAP sessions held
measure_idle() {
    local round=$1 target=$2 sessions=$3 hold=$4 port before during after log out i pid
    port=$(port "$target" imap implicit)
    [[ -n $port && $target != direct ]] || return 0
    log=$RUN/idle-$target.log
    out=$RUN/idle-$target.json
    : >"$log"
    restart "$target"
    # one login first: what a fresh process allocates for its first session (TLS contexts, pools) is not per session
    "${LOAD_JVM[@]}" imap-login --port "$port" --concurrency 1 --max-ops 1 >/dev/null 2>>"$RUN/load.log" || true
    before=$(sample "${PID_OF[$target]}")
    "${LOAD_JVM[@]}" imap-idle --port "$port" --tls implicit --sessions "$sessions" --concurrency 64 \
        --duration "$hold" --label "$target" --timeout 120 >"$out" 2>"$log" &
    pid=$!
    for ((i = 0; i < 6000; i++)); do
        grep -q "holding" "$log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    sleep 3 # let the last handshakes' garbage settle
    during=$(sample "${PID_OF[$target]}")
    wait "$pid" || true
    after=$(sample "${PID_OF[$target]}")
    [[ -s $out ]] || { say "idle run against $target failed: $(tail -3 "$log")"; return 0; }
    record "$round" "$target" "imap-idle/implicit" "$before" "$after" "$(cat "$out")" "$during"
    say "round $round $target imap-idle: $(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["held"], "held, errors", r["errors"], r["first_error"] or "")' "$(cat "$out")"), RSS $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["rss_kib"], "->", json.loads(sys.argv[2])["rss_kib"], "KiB")' "$before" "$during")"
}

VARIANTS=(imap-login/implicit imap-login-c1/implicit imap-login/starttls imap-fetch-big/implicit pop3-login/implicit pop3-login/starttls
    smtp-submit/implicit smtp-submit/starttls imap-idle/implicit)
selected() { [[ -z $ONLY || ,$ONLY, == *,$1,* ]]; }

if [[ -n $ONLY && -f $RESULTS ]]; then
    # re-measure only the selected variants: keep the other rows of the last run
    python3 - "$RESULTS" "$ONLY" <<'EOF2'
import json, sys
path, only = sys.argv[1], set(sys.argv[2].split(","))
rows = [json.loads(l) for l in open(path) if l.strip()]
keep = [r for r in rows if r["variant"] not in only and not r["variant"].startswith("process/")
        and not (r["round"] == "capacity" and "capacity" in only)]
with open(path, "w") as f:
    for r in keep:
        f.write(json.dumps(r, separators=(",", ":")) + "\n")
EOF2
else
    : >"$RESULTS"
fi
: >"$RUN/load.log"
START_DATE=$(date -u +"%Y-%m-%d %H:%M UTC")
# the build measured: the tree as it was when the jars were built, not when the report is written
POSTERN_REV=$(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- proxy config || echo '+dirty')

# The whole process's RSS as started (a few seconds after its port opened, before any session) and, at the end,
# idle again after the load: recorded as variant process/start and process/idle
sleep 3
for target in "${AVAILABLE[@]}"; do
    [[ $target == direct ]] && continue
    s0=$(sample "${PID_OF[$target]}")
    record start "$target" process/start "$s0" "$s0" null
done

# jit_state TARGET -> "LINES C1_MS C2_MS": compilations logged so far and the compiler threads' CPU
jit_state() {
    local lines=0
    [[ -f $RUN/$1/jit.log ]] && lines=$(grep -c . "$RUN/$1/jit.log" || true)
    echo "$lines $(python3 "$BENCH/lib/jitcpu.py" "${PID_OF[$1]}" 2>/dev/null || echo "? ?")"
}

# steady-state warm-up: cycles of IMAPS, POP3S and SMTPS logins through each Postern until a whole cycle's
# worth of quiet (no compilation logged) adds up to QUIET seconds, within WARMUP seconds in all
if ((WARMUP > 0)); then
    WARM_LOG=$RUN/warmup.txt
    CYCLE=10 # seconds of each scenario per cycle
    warm_start=$SECONDS
    declare -A QUIET_FOR STEADY_AT
    {
        echo "# compare.sh --warmup $WARMUP --quiet $QUIET, $(date -u +'%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "# per cycle and Postern: ${CYCLE} s each of imap-login, pop3-login, smtp-submit (c=16); compilations"
        echo "# logged by -Xlog:jit+compilation (cumulative, new in this cycle), C1 and C2 compiler threads' CPU ms"
        echo "# (cumulative); the target is steady once ${QUIET} s of its own load logged at most $QUIET_MAX compilations a cycle${QUIET_CPU:+ or its compilers used at most $QUIET_CPU % of its CPU}"
    } >"$WARM_LOG"
    say "steady-state warm-up: up to $WARMUP s, until $QUIET s of load compile (almost) nothing (log: $WARM_LOG)"
    cycle=0
    while :; do
        pending=0
        for target in "${AVAILABLE[@]}"; do
            [[ $target == postern* && -z ${STEADY_AT[$target]:-} ]] || continue
            pending=1
            read -r l0 c10 c20 <<<"$(jit_state "$target")"
            p0=$(sample "${PID_OF[$target]}")
            for scenario in imap-login pop3-login smtp-submit; do
                wport=$(port "$target" "${scenario%%-*}" implicit)
                "${LOAD_JVM[@]}" "$scenario" --port "$wport" --tls implicit --concurrency 16 --duration $CYCLE \
                    >/dev/null 2>>"$RUN/load.log" || true
            done
            read -r l1 c1 c2 <<<"$(jit_state "$target")"
            p1=$(sample "${PID_OF[$target]}")
            # the compiler threads' share of the process's CPU in this cycle, in %
            share=$(python3 -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); d=(b["cpu_ns"]-a["cpu_ns"])/1e6; j=sum(float(x) for x in sys.argv[3:5])-sum(float(x) for x in sys.argv[5:7]); print(f"{100*j/d:.1f}" if d>0 else "100")' \
                "$p0" "$p1" "${c1/\?/0}" "${c2/\?/0}" "${c10/\?/0}" "${c20/\?/0}")
            cpu_quiet=0
            [[ -n $QUIET_CPU ]] && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$share" "$QUIET_CPU" && cpu_quiet=1
            if ((l1 - l0 <= QUIET_MAX || cpu_quiet)); then
                QUIET_FOR[$target]=$((${QUIET_FOR[$target]:-0} + 3 * CYCLE))
            else
                QUIET_FOR[$target]=0
            fi
            echo "cycle $cycle t=$((SECONDS - warm_start))s $target: compilations $l1 (+$((l1 - l0))), C1 ${c1} ms, C2 ${c2} ms, compilers ${share}% of its CPU, quiet ${QUIET_FOR[$target]} s" >>"$WARM_LOG"
            if ((QUIET_FOR[$target] >= QUIET)); then
                STEADY_AT[$target]=$((SECONDS - warm_start))
                echo "steady $target after ${STEADY_AT[$target]} s" >>"$WARM_LOG"
            fi
        done
        ((pending)) || break
        if ((SECONDS - warm_start >= WARMUP)); then
            for target in "${AVAILABLE[@]}"; do
                [[ $target == postern* && -z ${STEADY_AT[$target]:-} ]] &&
                    echo "NOT STEADY $target: still compiling after $WARMUP s (measured anyway)" >>"$WARM_LOG"
            done
            break
        fi
        cycle=$((cycle + 1))
    done
    say "$(grep -E '^(steady|NOT)' "$WARM_LOG" | tr '\n' ';')"
fi

say "warming up every target (JIT, pools; not recorded)"
for target in "${AVAILABLE[@]}"; do
    [[ $target == direct ]] && continue
    ((WARMUP > 0)) && [[ $target == postern* ]] && continue
    port=$(port "$target" imap implicit)
    "${LOAD_JVM[@]}" imap-login --port "$port" --concurrency 16 --duration $((QUICK ? 2 : 8)) >/dev/null 2>>"$RUN/load.log" || true
    "${LOAD_JVM[@]}" imap-fetch-big --port "$port" --concurrency 2 --duration $((QUICK ? 2 : 5)) \
        --users alice@example.test:alice-pw --mailbox bench-big >/dev/null 2>>"$RUN/load.log" || true
done

for ((round = 1; round <= REPEAT; round++)); do
    for variant in "${VARIANTS[@]}"; do
        selected "$variant" || continue
        scenario=${variant%/*} tls=${variant#*/}
        for target in "${AVAILABLE[@]}"; do
            if [[ $scenario == imap-idle ]]; then
                measure_idle "$round" "$target" "$IDLE_SESSIONS" $((QUICK ? 3 : 10))
            else
                measure "$round" "$target" "$scenario" "$tls"
            fi
        done
    done
done

sleep 3
for target in "${AVAILABLE[@]}"; do
    [[ $target == direct ]] && continue
    s0=$(sample "${PID_OF[$target]}")
    record end "$target" process/idle "$s0" "$s0" null
done
if ((WARMUP > 0)); then
    for target in "${AVAILABLE[@]}"; do
        [[ $target == postern* ]] && echo "after the measurements $target: compilations, C1 ms, C2 ms: $(jit_state "$target")" >>"$WARM_LOG"
    done
fi

if ((CAPACITY > 0)) && selected capacity; then
    say "capacity: $CAPACITY idle TLS sessions through each proxy"
    for target in "${AVAILABLE[@]}"; do
        [[ $target == direct ]] && continue
        measure_idle capacity "$target" "$CAPACITY" 20
    done
fi

# ---------------------------------------------------------------- report

{
    echo "date=$START_DATE"
    echo "cores=$(nproc)"
    echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "memory=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
    echo "kernel=$(uname -r)"
    if ((need_nginx)); then
        echo "nginx=${VERSION_OF[nginx]:-$(nginx -v 2>&1 | sed 's/^nginx version: nginx\///')}"
    else
        echo "nginx=(not measured)"
    fi
    echo "haproxy=${VERSION_OF[haproxy]:-$(haproxy -v | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p')}"
    echo "haproxy_ssl=$(haproxy -vv 2>/dev/null | sed -n 's/^Running on OpenSSL version : //p')"
    ((need_nginx)) && echo "nginx_ssl=$(nginx -V 2>&1 | sed -n 's/^built with //p')"
    echo "dovecot=$(dovecot --version)"
    echo "postfix=$(postconf -d -h mail_version 2>/dev/null)"
    echo "java=$(java -version 2>&1 | head -1)"
    echo "postern=$POSTERN_REV"
    echo "postern_tls=$(grep -m1 -ho 'TLS provider: .*' "$RUN"/postern*/postern.log 2>/dev/null | sed 's/TLS provider: //')"
    echo "postern_flags=$(sed -n 's/^JAVA_FLAGS_DEFAULT="\(.*\)"$/\1/p' "$ROOT/bin/postern")"
    echo "repeat=$REPEAT"
    echo "duration=$DURATION"
    echo "idle_sessions=$IDLE_SESSIONS"
    echo "capacity=$CAPACITY"
    echo "big_bytes=$BIG_BYTES"
    echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "quick=$QUICK"
    echo "warmup=$WARMUP"
    echo "warmup_log=${WARM_LOG:-}"
    echo "quiet=$QUIET"
    echo "quiet_max=$QUIET_MAX"
    echo "quiet_cpu=$QUIET_CPU"
    echo "extra=$EXTRA"
    for extra in ${EXTRA//,/ }; do
        echo "flags_$extra=$("$(extra_java "$extra")" -version 2>&1 | head -1 | sed 's/^openjdk version //'); $(extra_flags "$extra")$(extra_config "$extra" | sed 's/^/; /')"
    done
} >"$RUN/machine.env"
python3 "$BENCH/lib/report.py" "$RESULTS" "$RUN/machine.env" >"$BENCH/RESULTS.md.new"
mv "$BENCH/RESULTS.md.new" "$BENCH/RESULTS.md"
# the raw measurements behind the report, kept with it
mkdir -p "$BENCH/results"
cp "$RESULTS" "$BENCH/results/compare-latest.jsonl"
cp "$RUN/machine.env" "$BENCH/results/compare-latest.env"
((WARMUP > 0)) && cp "$WARM_LOG" "$BENCH/results/compare-warmup.txt"
say "wrote $BENCH/RESULTS.md (raw: benchmarks/results/compare-latest.jsonl)"
