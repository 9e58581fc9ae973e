#!/usr/bin/env bash
# IMAP logins per second through Postern's ldap provider (search then bind against a private OpenLDAP), with a cold
# and with a warm auth cache, on this machine, against a private Dovecot.
#
# Usage: benchmarks/ldap-logins.sh [--logins N] [--users N] [--concurrency C] [--max-seconds S] [--no-build] [--keep]
#
#   --logins N       logins per pass (default 2000)
#   --users N        users in the directory (default 1000); the first C log in, one per virtual user
#   --concurrency C  logins at once (default 16)
#   --max-seconds S  each pass stops after S seconds even if fewer logins were made (default 60)
#   --no-build       use proxy/target/postern.jar and benchmarks/target/postern-load.jar as they are
#   --keep           leave slapd, Postern and the backends running at the end
#
# What runs, all on 127.0.0.1 and all stopped at the end (only what this script started):
#   slapd      a private OpenLDAP (benchmarks/run/ldap/slapd, its own slapd.conf and mdb database, a free port) with
#              N users u0001..uN@example.test, {SSHA} passwords, and the attributes posternLogin (alice or bob) and
#              posternMaster (proxy-master)
#   backends   a private scripts/dev-backends.sh instance (state benchmarks/run/ldap/backends, ports +31000; with the
#              limits compare.sh gives its own), unless one already answers there
#   Postern    bin/postern with one plain IMAP listener (allow-plaintext-auth, throttle: off) whose chain is the ldap
#              provider: search (service account) then bind as the user, the backend login as proxy-master for the
#              mapped user; one Postern per pass, stopped after it
# Pass cold: the auth cache off (size 0), so every login is an LDAP search and a bind, then the backend login.
# Pass warm: the cache on, warmed by one login per virtual user, so every measured login is answered by the cache.
# A login is the load generator's imap-login session (connect, LOGIN, SELECT, FETCH 1 FLAGS, LOGOUT) without TLS,
# so the difference between the passes is the directory's. Prints one line per pass; the JSON of each is in
# benchmarks/run/ldap/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN=$ROOT/benchmarks/run/ldap
LOGINS=2000
USERS=1000
CONCURRENCY=16
MAX_SECONDS=60
BUILD=1
KEEP=0
while (($#)); do
    case $1 in
    --logins) LOGINS=$2 && shift ;;
    --users) USERS=$2 && shift ;;
    --concurrency) CONCURRENCY=$2 && shift ;;
    --max-seconds) MAX_SECONDS=$2 && shift ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    *) echo "usage: $0 [--logins N] [--users N] [--concurrency C] [--max-seconds S] [--no-build] [--keep]" >&2
        exit 1 ;;
    esac
    shift
done
[[ $USERS =~ ^[0-9]+$ && $USERS -ge 1 && $USERS -le 100000 ]] || { echo "--users: 1 to 100000" >&2; exit 1; }
[[ $LOGINS =~ ^[0-9]+$ && $LOGINS -ge 1 && $LOGINS -le 1000000 ]] || { echo "--logins: 1 to 1000000" >&2; exit 1; }
[[ $CONCURRENCY =~ ^[0-9]+$ && $CONCURRENCY -ge 1 && $CONCURRENCY -le 1000 ]] ||
    { echo "--concurrency: 1 to 1000" >&2; exit 1; }
((CONCURRENCY <= USERS)) || { echo "--concurrency: at most --users" >&2; exit 1; }
[[ $MAX_SECONDS =~ ^[0-9]+$ && $MAX_SECONDS -ge 1 && $MAX_SECONDS -le 600 ]] ||
    { echo "--max-seconds: 1 to 600" >&2; exit 1; }

say() { printf '%s ldap-logins: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "$*" && exit 1; }
for tool in /usr/sbin/slapd /usr/sbin/slapadd python3 java; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: slapd, python3, default-jre-headless)"
done

mkdir -p "$RUN"
if ((BUILD)); then
    say "building proxy/target/postern.jar and benchmarks/target/postern-load.jar"
    (cd "$ROOT" && mvn -B -q -o -pl benchmarks -am package -DskipTests) >"$RUN/build.log" 2>&1 ||
        { tail -50 "$RUN/build.log" >&2; die "the build failed"; }
fi
LOAD_JAR=$ROOT/benchmarks/target/postern-load.jar
[[ -f $LOAD_JAR && -f $ROOT/proxy/target/postern.jar ]] || die "the jars are missing (run without --no-build)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listening() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # PORT PID NAME LOG
    local i
    for ((i = 0; i < 300; i++)); do
        listening "$1" && return 0
        kill -0 "$2" 2>/dev/null || { tail -30 "$4" >&2; die "$3 exited"; }
        sleep 0.1
    done
    tail -30 "$4" >&2
    die "$3 did not listen on $1 within 30 s"
}

SLAPD_PID= POSTERN_PID= BACKENDS_STARTED=0
export POSTERN_BACKENDS_DIR=$RUN/backends POSTERN_BACKENDS_PORT_OFFSET=31000
cleanup() {
    ((KEEP)) && return
    [[ -n $POSTERN_PID ]] && kill "$POSTERN_PID" 2>/dev/null && wait "$POSTERN_PID" 2>/dev/null || true
    [[ -n $SLAPD_PID ]] && kill "$SLAPD_PID" 2>/dev/null && wait "$SLAPD_PID" 2>/dev/null || true
    ((BACKENDS_STARTED)) && "$ROOT/scripts/dev-backends.sh" stop >/dev/null 2>&1
    return 0
}
trap cleanup EXIT

# ---------------------------------------------------------------- backends
B_IMAP=$((2143 + POSTERN_BACKENDS_PORT_OFFSET))
if ! listening "$B_IMAP"; then
    mkdir -p "$POSTERN_BACKENDS_DIR"
    # as compare.sh: many sessions of one user from one address, and Dovecot's own auth cache
    cat >"$POSTERN_BACKENDS_DIR/dovecot-extra.conf" <<'EOF'
# Written by benchmarks/ldap-logins.sh for its private backend instance.
auth_cache_size = 10M
auth_cache_ttl = 1 hour
service imap-login {
  service_count = 0
  process_min_avail = 2
  process_limit = 4
  client_limit = 2000
}
service imap {
  service_count = 0
  client_limit = 250
  process_limit = 20
  vsz_limit = 1G
}
protocol imap {
  mail_max_userip_connections = 100000
}
EOF
    say "starting private backends (offset $POSTERN_BACKENDS_PORT_OFFSET, state $POSTERN_BACKENDS_DIR)"
    BACKENDS_STARTED=1
    "$ROOT/scripts/dev-backends.sh" start >"$RUN/backends.log" 2>&1 ||
        { tail -30 "$RUN/backends.log" >&2; die "the backends did not start"; }
fi

# ---------------------------------------------------------------- slapd
SLAPD_DIR=$RUN/slapd
rm -rf "$SLAPD_DIR" && mkdir -p "$SLAPD_DIR/db"
cat >"$SLAPD_DIR/postern.schema" <<'EOF'
attributetype ( 1.3.6.1.4.1.32473.1.1.4 NAME 'posternLogin' DESC 'the name to log in with on the backend'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.32473.1.1.5 NAME 'posternMaster' DESC 'the master user to log in as'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.32473.1.2.1 NAME 'posternUser' SUP top AUXILIARY MAY ( posternLogin $ posternMaster ) )
EOF
cat >"$SLAPD_DIR/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include $SLAPD_DIR/postern.schema
pidfile $SLAPD_DIR/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=example,dc=test"
directory $SLAPD_DIR/db
maxsize 104857600
index mail eq
access to attrs=userPassword by anonymous auth by * none
access to * by * read
EOF
python3 - "$USERS" >"$SLAPD_DIR/data.ldif" <<'EOF'
import base64, hashlib, os, sys
def ssha(password):
    salt = os.urandom(8)
    return '{SSHA}' + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()
print("dn: dc=example,dc=test\nobjectClass: dcObject\nobjectClass: organization\no: example\ndc: example\n")
print("dn: ou=people,dc=example,dc=test\nobjectClass: organizationalUnit\nou: people\n")
print("dn: ou=services,dc=example,dc=test\nobjectClass: organizationalUnit\nou: services\n")
print("dn: cn=postern,ou=services,dc=example,dc=test\nobjectClass: simpleSecurityObject\n"
      "objectClass: organizationalRole\ncn: postern\nuserPassword: %s\n" % ssha("service-pw"))
for i in range(1, int(sys.argv[1]) + 1):
    uid = "u%04d" % i
    print("dn: uid=%s,ou=people,dc=example,dc=test\nobjectClass: inetOrgPerson\nobjectClass: posternUser\n"
          "uid: %s\ncn: %s\nsn: %s\nmail: %s@example.test\nuserPassword: %s\nposternLogin: %s\n"
          "posternMaster: proxy-master\n"
          % (uid, uid, uid, uid, uid, ssha("pw-" + uid), "alice@example.test" if i % 2 else "bob@example.test"))
EOF
/usr/sbin/slapadd -q -f "$SLAPD_DIR/slapd.conf" -l "$SLAPD_DIR/data.ldif" >"$SLAPD_DIR/slapadd.log" 2>&1 ||
    { cat "$SLAPD_DIR/slapadd.log" >&2; die "slapadd failed"; }
LDAP_PORT=$(free_port)
/usr/sbin/slapd -f "$SLAPD_DIR/slapd.conf" -h "ldap://127.0.0.1:$LDAP_PORT/" -d 0 >"$SLAPD_DIR/slapd.log" 2>&1 &
SLAPD_PID=$!
wait_port "$LDAP_PORT" "$SLAPD_PID" slapd "$SLAPD_DIR/slapd.log"
say "slapd with $USERS users on 127.0.0.1:$LDAP_PORT"

# ---------------------------------------------------------------- Postern, one per pass
IMAP_PORT=
start_postern() { # NAME CACHE
    IMAP_PORT=$(free_port)
    cat >"$RUN/postern-$1.yaml" <<EOF
listeners:
  - {name: imap, protocol: imap, bind: "127.0.0.1:$IMAP_PORT", allow-plaintext-auth: true, pool: dovecot,
     auth: [directory], throttle: off}
pools:
  - {name: dovecot, backends: [{address: "127.0.0.1:$B_IMAP"}]}
auth:
  providers:
    - name: directory
      type: ldap
      servers: ["ldap://127.0.0.1:$LDAP_PORT"]
      search:
        base: ou=people,dc=example,dc=test
        filter: "(&(objectClass=inetOrgPerson)(mail=%u))"
        bind-dn: cn=postern,ou=services,dc=example,dc=test
        bind-password: service-pw
      attributes: {user: posternLogin, master: posternMaster}
      master-password: master-pw
  cache: $2
timeouts:
  idle: 5m
EOF
    "$ROOT/bin/postern" --config "$RUN/postern-$1.yaml" >"$RUN/postern-$1.log" 2>&1 &
    POSTERN_PID=$!
    wait_port "$IMAP_PORT" "$POSTERN_PID" Postern "$RUN/postern-$1.log"
}
stop_postern() {
    kill "$POSTERN_PID" 2>/dev/null && wait "$POSTERN_PID" 2>/dev/null || true
    POSTERN_PID=
    return 0
}

users=$(python3 -c 'import sys; print(",".join("u%04d@example.test:pw-u%04d" % (i, i) for i in range(1, int(sys.argv[1]) + 1)))' "$CONCURRENCY")
load() { # NAME MAX_OPS
    java -XX:+UseSerialGC -Xms64m -Xmx512m -XX:TieredStopAtLevel=1 -jar "$LOAD_JAR" imap-login \
        --port "$IMAP_PORT" --tls none -c "$CONCURRENCY" --duration "$MAX_SECONDS" --max-ops "$2" \
        --timeout 30 --label "ldap-$1" --users "$users" >"$RUN/$1.json" 2>"$RUN/$1.log" ||
        { cat "$RUN/$1.log" >&2; die "the load generator failed"; }
}
report() { # NAME
    python3 - "$1" "$RUN/$1.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[2]))
print("%-5s %5d logins in %6.2f s: %7.1f logins/s, p50 %6.1f ms, p90 %6.1f ms, p99 %6.1f ms, errors %d%s"
      % (sys.argv[1], r["ops"], r["elapsed_s"], r["ops_per_s"], r["latency_ms"]["p50"], r["latency_ms"]["p90"],
         r["latency_ms"]["p99"], r["errors"], (" (first: %s)" % r["first_error"]) if r["errors"] else ""))
EOF
}

say "cold: cache off, every login an LDAP search and bind; $LOGINS logins, concurrency $CONCURRENCY"
start_postern cold "{size: 0}"
load cold "$LOGINS"
stop_postern
say "warm: cache on (ttl 1h), warmed by one login per virtual user, then $LOGINS logins"
start_postern warm "{size: 100000, ttl: 1h, refresh-after: 0}"
load warm-up "$CONCURRENCY"
load warm "$LOGINS"
stop_postern
report cold
report warm
