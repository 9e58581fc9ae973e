#!/usr/bin/env bash
# Installs the Debian package the build made (proxy/target/postern_*.deb) on this machine and checks it as an
# operator would, then removes and purges it: run as root after 'mvn package' (CI runs it after 'mvn -B verify').
# Idempotent: a postern package left by an earlier run is purged first. Touches only the package's own files, the
# postern user (kept, as Debian keeps system users) and ports 143/993/9025 for a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
fail() { echo "package-check: FAIL: $*" >&2; exit 1; }
step() { echo "package-check: $*"; }

shopt -s nullglob
debs=(proxy/target/postern_*_amd64.deb)
[[ ${#debs[@]} -eq 1 ]] || fail "expected one proxy/target/postern_*_amd64.deb, found ${#debs[@]} (build with mvn package)"
deb=${debs[0]}

if dpkg-query -W -f='${Status}' postern 2>/dev/null | grep -q installed; then
    step "purging the postern package an earlier run left"
    dpkg -P postern >/dev/null
fi

step "dpkg -i $deb"
dpkg -i "$deb" >/dev/null || fail "dpkg -i failed (is a JRE >= 17 installed as a Debian package?)"
dpkg-query -W -f='${Status}' postern | grep -q "install ok installed" || fail "postern is not installed"
mapfile -t files < <(dpkg -L postern | while read -r f; do [[ -f $f ]] && echo "$f"; done)
getent passwd postern >/dev/null || fail "no postern user"
[[ $(stat -c %U /var/lib/postern) == postern ]] || fail "/var/lib/postern is not owned by postern"

step "postern --check as the postern user on the packaged configuration"
out=$(runuser -u postern -- postern --check --config /etc/postern/postern.yaml 2>&1) || fail "check failed: $out"
[[ $out == *"postern.yaml: OK"* ]] || fail "check said: $out"

step "systemd-analyze verify on the unit"
systemd-analyze verify /lib/systemd/system/postern.service || fail "systemd-analyze verify failed"

step "the unit's command as the postern user with only CAP_NET_BIND_SERVICE (what systemd grants it)"
log=$(mktemp)
config=/etc/postern/postern.yaml
imap=143
imaps=993
if [[ -n $(ss -Hltn 'sport = :143 or sport = :993 or sport = :995 or sport = :465 or sport = :587 or sport = :9025') ]]; then
    # a mail server of the machine holds the standard ports: the same configuration on other ports below 1024
    imap=643
    imaps=693
    probe_dir=$(mktemp -d)
    chmod 755 "$probe_dir"
    config=$probe_dir/postern.yaml
    sed -e 's/"\*:143"/"127.0.0.1:643"/; s/"\*:993"/"127.0.0.1:693"/; s/"\*:995"/"127.0.0.1:695"/' \
        -e 's/"\*:465"/"127.0.0.1:665"/; s/"\*:587"/"127.0.0.1:687"/' -e '/^admin:/,$d' \
        /etc/postern/postern.yaml >"$config"
    chmod 644 "$config"
    step "the standard ports are taken here: probing the packaged configuration on ports $imap and $imaps"
fi
# setpriv gives the same ambient capability the unit's AmbientCapabilities does, so ports 143 and 993 bind without
# root; POSTERN_LOG_FORMAT=json as /etc/default/postern can set it
POSTERN_LOG_FORMAT=json setpriv --reuid postern --regid postern --init-groups --inh-caps +net_bind_service \
    --ambient-caps +net_bind_service --bounding-set -all,+net_bind_service --no-new-privs \
    postern --config "$config" >"$log" 2>&1 &
pid=$!
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
greeting=""
for _ in $(seq 1 60); do
    if greeting=$(timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$imap"' && head -n1 <&3' 2>/dev/null) && [[ -n $greeting ]]; then
        break
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "postern exited"; }
    sleep 0.5 # polling a port a process is still binding: there is no event to wait on from a shell
done
[[ $greeting == "* OK"* ]] || { stop; cat "$log" >&2; fail "no IMAP greeting on port $imap: '$greeting'"; }
step "port $imap greets: ${greeting%$'\r'}"
# -quiet keeps the connection open after the greeting: timeout ends it, so the pipeline's status is not the test
tls_greeting=$(timeout 3 openssl s_client -connect 127.0.0.1:$imaps -quiet </dev/null 2>/dev/null | head -n1 || true)
[[ $tls_greeting == "* OK"* ]] || { stop; cat "$log" >&2; fail "no IMAP greeting over TLS on port $imaps"; }
step "port $imaps greets over TLS"
kill -HUP "$pid"
for _ in $(seq 1 20); do grep -qE "TLS certificates reloaded|reload of [^ ]*: (nothing changed|listeners added)" "$log" && break; sleep 0.25; done
grep -qE "TLS certificates reloaded|reload of [^ ]*: (nothing changed|listeners added)" "$log" || { stop; cat "$log" >&2; fail "SIGHUP did not reload"; }
kill -0 "$pid" || fail "postern died on SIGHUP"
step "SIGHUP (the unit's ExecReload) reloaded the configuration and the certificates"
stop
python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
assert lines, "no JSON log lines"
for l in lines:
    json.loads(l)
' "$log" || { cat "$log" >&2; fail "the log is not JSON lines"; }
grep -q '"logger_name":"postern.session".*"listener":"imap"' "$log" || { cat "$log" >&2; fail "no session line"; }
step "logs were JSON lines, with the probe's session line"
rm -f "$log"
[[ -z ${probe_dir:-} ]] || rm -rf "$probe_dir"

step "dpkg -r: the package's files go, its conffiles and state stay"
dpkg -r postern >/dev/null
for f in "${files[@]}"; do
    case $f in
        /etc/postern/postern.yaml | /etc/default/postern) [[ -e $f ]] || fail "conffile $f went on remove" ;;
        *) [[ ! -e $f ]] || fail "$f is still there after dpkg -r" ;;
    esac
done
[[ -d /var/lib/postern ]] || fail "/var/lib/postern went on remove"

step "dpkg -P: conffiles and state go, the postern user stays"
dpkg -P postern >/dev/null
for f in /etc/postern /etc/default/postern /var/lib/postern; do
    [[ ! -e $f ]] || fail "$f is still there after dpkg -P"
done
dpkg-query -W postern >/dev/null 2>&1 && fail "dpkg still knows postern"
getent passwd postern >/dev/null || fail "the postern user went (Debian keeps it)"
step "OK in $(($(date +%s) - start)) s"
