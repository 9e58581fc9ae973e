#!/usr/bin/env bash
# Proves, with real clients (curl, swaks, Python's imaplib/poplib/smtplib),
# that a running scripts/dev-backends.sh instance does what Postern's
# integration tests rely on: logins, delivery, no open relay, PROXY listeners,
# client address forwarding (IMAP ID, XCLIENT, PROXY) and master-user logins.
#
# Usage: scripts/dev-backends.sh start && scripts/dev-backends-selftest.sh
#
# Reads the ports from <state>/ports.env (POSTERN_BACKENDS_DIR as for
# dev-backends.sh). Runs as root (doveadm reads the mailboxes). Every check
# prints "ok" or "FAIL" with the evidence; exit status 1 if any failed.
# Messages it sends carry a per-run tag, and log assertions only look at
# lines written during this run, so it can run again and again on one state.
set -euo pipefail
shopt -s inherit_errexit

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
STATE=${POSTERN_BACKENDS_DIR:-$REPO_DIR/run/backends}
[[ $STATE == /* ]] || STATE=$PWD/$STATE
TIMEOUT=${POSTERN_SELFTEST_TIMEOUT:-30}

((EUID == 0)) || {
    echo "selftest: must run as root (doveadm reads the mailboxes)" >&2
    exit 1
}
[[ -r $STATE/ports.env ]] || {
    echo "selftest: no $STATE/ports.env; run scripts/dev-backends.sh start first" >&2
    exit 1
}
# shellcheck source=/dev/null # KEY=value lines written by dev-backends.sh start
source "$STATE/ports.env"

RUN_TAG=selftest-$(date +%Y%m%d%H%M%S)-$$
CERT=$BACKEND_TLS_CERT
# Log assertions only consider what was written after these byte offsets.
DOVECOT_LOG_FROM=$(stat -c %s "$BACKEND_DOVECOT_LOG")
POSTFIX_LOG_FROM=$(stat -c %s "$BACKEND_POSTFIX_LOG")
export CERT

PASSED=0
FAILED=0

# Runs one check function with errexit on; its output is the evidence.
check() {
    local description=$1 output rc
    shift
    set +e
    output=$(
        set -e
        "$@" 2>&1
    )
    rc=$?
    set -e
    if ((rc == 0)); then
        PASSED=$((PASSED + 1))
        echo "ok   - $description"
    else
        FAILED=$((FAILED + 1))
        echo "FAIL - $description"
    fi
    # shellcheck disable=SC2001 # indent every line of the evidence
    [[ -z $output ]] || sed 's/^/       /' <<<"$output"
}

# ---------------------------------------------------------------- helpers

doveadm_() {
    doveadm -c "$BACKEND_DOVECOT_CONF" "$@"
}

# Prints the message count of USER's INBOX.
inbox_count() {
    doveadm_ mailbox status -u "$1" messages INBOX | sed -n 's/.*messages=\([0-9]*\).*/\1/p'
}

# Waits until a message whose Subject contains TEXT is in USER's INBOX.
wait_for_mail() {
    local user=$1 text=$2 deadline=$((SECONDS + TIMEOUT))
    until [[ -n $(doveadm_ search -u "$user" mailbox INBOX header Subject "$text") ]]; do
        if ((SECONDS >= deadline)); then
            echo "no message with Subject '$text' in $user's INBOX after ${TIMEOUT}s"
            return 1
        fi
        sleep 0.2
    done
    echo "arrived in $user's INBOX (now $(inbox_count "$user") messages)"
}

# Waits until a line written during this run contains every given string;
# prints that line. Both servers log asynchronously, hence the polling.
wait_for_log() {
    local file=$1 from=$2 deadline=$((SECONDS + TIMEOUT)) line
    shift 2
    local needle
    while true; do
        line=$(tail -c +"$((from + 1))" "$file" | grep -F -- "$1" || true)
        for needle in "${@:2}"; do
            line=$(grep -F -- "$needle" <<<"$line" || true)
        done
        if [[ -n $line ]]; then
            echo "log: $(tail -n 1 <<<"$line")"
            return 0
        fi
        if ((SECONDS >= deadline)); then
            echo "no line with: $* in $file after ${TIMEOUT}s"
            return 1
        fi
        sleep 0.2
    done
}

dovecot_log() { wait_for_log "$BACKEND_DOVECOT_LOG" "$DOVECOT_LOG_FROM" "$@"; }
postfix_log() { wait_for_log "$BACKEND_POSTFIX_LOG" "$POSTFIX_LOG_FROM" "$@"; }

# py CODE ARGS...: runs Python CODE (argv in sys.argv[1:]) after a shared
# prelude: PROXY header builders, a TLS context trusting the backend cert.
py() {
    local code=$1
    shift
    python3 - "$@" <<EOF
import base64, imaplib, os, poplib, smtplib, socket, ssl, struct, sys
HOST = "127.0.0.1"
TLS = ssl.create_default_context(cafile=os.environ["CERT"])

def proxy_v2(src_ip, src_port, dst_port):
    addresses = socket.inet_aton(src_ip) + socket.inet_aton(HOST) + struct.pack("!HH", src_port, dst_port)
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(addresses)) + addresses

def proxy_v1(src_ip, src_port, dst_port):
    return ("PROXY TCP4 %s %s %d %d\r\n" % (src_ip, HOST, src_port, dst_port)).encode()

def expect(condition, message):
    if not condition:
        sys.exit("unexpected: %s" % message)

$code
EOF
}

# ---------------------------------------------------------------- IMAP

imap_login_sees_seed_messages() {
    py '
m = imaplib.IMAP4(HOST, int(sys.argv[1]))
expect("STARTTLS" in m.capabilities, "no STARTTLS in %s" % (m.capabilities,))
m.login("alice@example.test", "alice-pw")
typ, data = m.select("INBOX", readonly=True)
count = int(data[0])
expect(count >= 3, "INBOX has %d messages" % count)
typ, data = m.fetch("1:3", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
subjects = [part[1].decode().strip() for part in data if isinstance(part, tuple)]
expect("Subject: Welcome alice 1" in subjects, subjects)
m.logout()
print("alice: %d messages, %s" % (count, subjects))
' "$BACKEND_IMAP_PORT"
}

imap_starttls_and_imaps_verify_the_certificate() {
    # curl checks the certificate against its own CA file (CN/SAN localhost).
    curl -sS --fail --ssl-reqd --cacert "$CERT" -u alice@example.test:alice-pw \
        "imap://localhost:$BACKEND_IMAP_PORT/" -X 'STATUS INBOX (MESSAGES)' | tr -d '\r'
    curl -sS --fail --cacert "$CERT" -u alice@example.test:alice-pw \
        "imaps://localhost:$BACKEND_IMAPS_PORT/" -X 'STATUS INBOX (MESSAGES)' | tr -d '\r'
}

imap_id_forwards_client_address() {
    py '
m = imaplib.IMAP4(HOST, int(sys.argv[1]))
typ, data = m.xatom("ID", "(\"name\" \"postern-selftest\" \"x-originating-ip\" \"198.51.100.7\" \"x-originating-port\" \"51234\")")
expect(typ == "OK", data)
m.login("alice@example.test", "alice-pw")
m.logout()
' "$BACKEND_IMAP_PORT"
    dovecot_log "imap-login: Info: ID sent: name=postern-selftest" "x-originating-ip=198.51.100.7,"
    dovecot_log "imap-login: Info: Login: user=<alice@example.test>" "rip=198.51.100.7,"
}

imap_master_user_logs_in_as_alice() {
    py '
port = int(sys.argv[1])
m = imaplib.IMAP4(HOST, port)
m.login("alice@example.test*proxy-master", "master-pw")
typ, data = m.select("INBOX", readonly=True)
expect(int(data[0]) >= 3, "INBOX as alice via LOGIN: %s" % data)
m.logout()
print("LOGIN alice@example.test*proxy-master: ok")

m = imaplib.IMAP4(HOST, port)
m.authenticate("PLAIN", lambda _: b"alice@example.test\0proxy-master\0master-pw")
typ, data = m.select("INBOX", readonly=True)
expect(int(data[0]) >= 3, "INBOX as alice via AUTHENTICATE: %s" % data)
m.logout()
print("AUTHENTICATE PLAIN authzid=alice@example.test authcid=proxy-master: ok")

for user, password in (("alice@example.test*proxy-master", "wrong"), ("nobody@example.test*proxy-master", "master-pw")):
    m = imaplib.IMAP4(HOST, port)
    try:
        m.login(user, password)
        sys.exit("master login %s/%s should fail" % (user, password))
    except imaplib.IMAP4.error:
        print("LOGIN %s with %s password refused" % (user, "a wrong" if password == "wrong" else "the master"))
    m.logout()
' "$BACKEND_IMAP_PORT"
    dovecot_log "auth: Info: Master user logging in as alice@example.test"
}

# ---------------------------------------------------------------- POP3

pop3_login_and_retr() {
    py '
p = poplib.POP3(HOST, int(sys.argv[1]))
expect("STLS" in p.capa(), "no STLS in CAPA")
p.user("alice@example.test")
p.pass_("alice-pw")
count, size = p.stat()
expect(count >= 3, "POP3 STAT %d" % count)
resp, lines, octets = p.retr(1)
subject = [l.decode() for l in lines if l.startswith(b"Subject:")]
expect(resp.startswith(b"+OK") and subject, "RETR 1: %s" % resp)
p.quit()
print("STAT %d messages, RETR 1: %s" % (count, subject[0]))
' "$BACKEND_POP3_PORT"
    # POP3S with certificate verification.
    curl -sS --fail --cacert "$CERT" -u bob@example.test:bob-pw "pop3s://localhost:$BACKEND_POP3S_PORT/1" |
        grep -m1 '^Subject:' | tr -d '\r' | sed 's/^/POP3S RETR 1 as bob: /'
}

pop3_xclient_forwards_client_address() {
    py '
p = poplib.POP3(HOST, int(sys.argv[1]))
resp = p._shortcmd("XCLIENT ADDR=203.0.113.27 PORT=40027")
expect(resp.startswith(b"+OK"), resp)
p.user("alice@example.test")
p.pass_("alice-pw")
p.quit()
' "$BACKEND_POP3_PORT"
    dovecot_log "pop3-login: Info: Login: user=<alice@example.test>" "rip=203.0.113.27,"
}

pop3_master_user() {
    py '
p = poplib.POP3(HOST, int(sys.argv[1]))
p.user("alice@example.test*proxy-master")
p.pass_("master-pw")
expect(p.stat()[0] >= 3, "alice STAT via master user")
p.quit()
print("USER alice@example.test*proxy-master: ok")
' "$BACKEND_POP3_PORT"
}

# ---------------------------------------------------------------- SMTP

submission_delivers_to_bob() {
    local subject="$RUN_TAG submission"
    swaks --server "127.0.0.1:$BACKEND_SUBMISSION_PORT" --auth PLAIN \
        --auth-user alice@example.test --auth-password alice-pw \
        --from alice@example.test --to bob@example.test \
        --header "Subject: $subject" --body "sent by dev-backends-selftest" >/dev/null
    wait_for_mail bob@example.test "$subject"
    # Dovecot hands the message to Postfix with XCLIENT LOGIN=alice.
    postfix_log "sasl_method=XCLIENT, sasl_username=alice@example.test"
}

submission_offers_starttls_and_master_user() {
    py '
s = smtplib.SMTP(HOST, int(sys.argv[1]))
s.starttls(context=TLS)
s.ehlo()
expect("PLAIN" in s.esmtp_features.get("auth", ""), s.esmtp_features)
s.quit()
print("STARTTLS with a verified certificate: ok")

s = smtplib.SMTP(HOST, int(sys.argv[1]))
s.ehlo()
code, text = s.docmd("AUTH", "PLAIN " + base64.b64encode(b"alice@example.test\0proxy-master\0master-pw").decode())
expect(code == 235, (code, text))
s.quit()
print("AUTH PLAIN authzid=alice@example.test authcid=proxy-master: %d %s" % (code, text.decode()))
' "$BACKEND_SUBMISSION_PORT"
}

submission_xclient_forwards_client_address() {
    py '
s = smtplib.SMTP(HOST, int(sys.argv[1]))
s.ehlo()
expect("ADDR" in s.esmtp_features.get("xclient", ""), s.esmtp_features)
code, text = s.docmd("XCLIENT", "ADDR=203.0.113.28 PORT=40028")
expect(code == 220, (code, text))
s.ehlo()
s.login("alice@example.test", "alice-pw")
s.quit()
' "$BACKEND_SUBMISSION_PORT"
    dovecot_log "submission-login: Info: Login: user=<alice@example.test>" "rip=203.0.113.28,"
}

relay_delivers_to_bob_without_auth() {
    local subject="$RUN_TAG relay"
    swaks --server "127.0.0.1:$BACKEND_SMTP_PORT" --from carol@outside.test --to bob@example.test \
        --header "Subject: $subject" --body "sent by dev-backends-selftest" >/dev/null
    wait_for_mail bob@example.test "$subject"
}

relay_refuses_outside_domains_and_unknown_users() {
    py '
s = smtplib.SMTP(HOST, int(sys.argv[1]))
s.ehlo()
expect(s.has_extn("starttls"), "no STARTTLS on the relay")
expect(not s.has_extn("auth"), "the relay must not offer AUTH")
s.mail("carol@outside.test")
code, text = s.rcpt("someone@outside.invalid")
expect(code == 554, (code, text))
print("RCPT someone@outside.invalid: %d %s" % (code, text.decode()))
code, text = s.rcpt("nobody@example.test")
expect(code == 550, (code, text))
print("RCPT nobody@example.test: %d %s" % (code, text.decode()))
s.quit()

s = smtplib.SMTP(HOST, int(sys.argv[1]))
s.starttls(context=TLS)
s.ehlo()
s.quit()
print("STARTTLS with a verified certificate: ok")
' "$BACKEND_SMTP_PORT"
}

relay_accepts_xclient() {
    local subject="$RUN_TAG xclient"
    py '
port, subject = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP(HOST, port)
s.ehlo()
expect("ADDR" in s.esmtp_features.get("xclient", ""), s.esmtp_features)
code, text = s.docmd("XCLIENT", "ADDR=203.0.113.25 PORT=40025 NAME=[UNAVAILABLE]")
expect(code == 220, (code, text))
s.ehlo()
s.sendmail("carol@outside.test", ["bob@example.test"], "Subject: %s\r\n\r\nvia XCLIENT\r\n" % subject)
s.quit()

# XCLIENT ADDR decides the relay policy: 192.0.2.0/24 is mynetworks.
for addr, expected in (("192.0.2.10", 550), ("203.0.113.26", 554)):
    s = smtplib.SMTP(HOST, port)
    s.ehlo()
    s.docmd("XCLIENT", "ADDR=" + addr)
    s.ehlo()
    s.mail("carol@outside.test")
    code, text = s.rcpt("someone@outside.invalid")
    expect(code == expected, (addr, code, text))
    print("XCLIENT ADDR=%s, RCPT outside: %d %s" % (addr, code, text.decode()))
    s.quit()
' "$BACKEND_SMTP_PORT" "$subject"
    wait_for_mail bob@example.test "$subject"
    postfix_log "client=unknown[203.0.113.25]"
}

# ---------------------------------------------------------------- PROXY listeners

proxy_listeners_require_a_header() {
    py '
ports = dict(imap=int(sys.argv[1]), pop3=int(sys.argv[2]), submission=int(sys.argv[3]), smtp=int(sys.argv[4]))
greeting = dict(imap=b"* OK", pop3=b"+OK", submission=b"220", smtp=b"220")
goodbye = dict(imap=b"a LOGOUT\r\n", pop3=b"QUIT\r\n", submission=b"QUIT\r\n", smtp=b"QUIT\r\n")

def read_line(sock):
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = sock.recv(512)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    return data

for name, port in ports.items():
    for version, header in (("v2", proxy_v2), ("v1", proxy_v1)):
        with socket.create_connection((HOST, port), timeout=10) as sock:
            sock.sendall(header("203.0.113.40", 40040, port))
            line = read_line(sock)
            expect(line.startswith(greeting[name]), "%s %d with PROXY %s: %r" % (name, port, version, line))
            sock.sendall(goodbye[name])
        print("%-10s %d with PROXY %s header: %s" % (name, port, version, line.decode().strip()[:60]))
    with socket.create_connection((HOST, port), timeout=10) as sock:
        sock.sendall(goodbye[name])
        line = read_line(sock)
        # Dovecot resets the connection; Postfix says 421 and closes.
        expect(not line.startswith(greeting[name]), "%s %d without header greeted: %r" % (name, port, line))
        print("%-10s %d without header: %s" % (name, port, line.decode().strip() or "closed"))
' "$BACKEND_IMAP_PROXY_PORT" "$BACKEND_POP3_PROXY_PORT" "$BACKEND_SUBMISSION_PROXY_PORT" "$BACKEND_SMTP_PROXY_PORT"
}

proxy_header_forwards_client_address() {
    local subject="$RUN_TAG proxy"
    py '
imap_port, pop3_port, submission_port, smtp_port, subject = sys.argv[1:6]

class ProxiedIMAP(imaplib.IMAP4):
    def __init__(self, port, source):
        self.source = source
        super().__init__(HOST, port)
    def _create_socket(self, timeout):
        sock = socket.create_connection((HOST, self.port), timeout)
        sock.sendall(proxy_v2(self.source, 40041, self.port))
        return sock

m = ProxiedIMAP(int(imap_port), "203.0.113.41")
m.login("alice@example.test", "alice-pw")
m.logout()

class ProxiedPOP3(poplib.POP3):
    def __init__(self, port, source):
        self.source = source
        super().__init__(HOST, port)
    def _create_socket(self, timeout):
        sock = socket.create_connection((HOST, self.port), timeout)
        sock.sendall(proxy_v2(self.source, 40042, self.port))
        return sock

p = ProxiedPOP3(int(pop3_port), "203.0.113.42")
p.user("alice@example.test")
p.pass_("alice-pw")
p.quit()

class ProxiedSMTP(smtplib.SMTP):
    def __init__(self, port, source):
        self.source = source
        super().__init__(HOST, port)
    def _get_socket(self, host, port, timeout):
        sock = socket.create_connection((host, port), timeout)
        sock.sendall(proxy_v2(self.source, 40043, port))
        return sock

s = ProxiedSMTP(int(submission_port), "203.0.113.43")
s.login("alice@example.test", "alice-pw")
s.quit()

s = ProxiedSMTP(int(smtp_port), "203.0.113.44")
s.sendmail("carol@outside.test", ["bob@example.test"], "Subject: %s\r\n\r\nvia PROXY v2\r\n" % subject)
s.quit()
' "$BACKEND_IMAP_PROXY_PORT" "$BACKEND_POP3_PROXY_PORT" "$BACKEND_SUBMISSION_PROXY_PORT" \
        "$BACKEND_SMTP_PROXY_PORT" "$subject"
    dovecot_log "imap-login: Info: Login: user=<alice@example.test>" "rip=203.0.113.41,"
    dovecot_log "pop3-login: Info: Login: user=<alice@example.test>" "rip=203.0.113.42,"
    dovecot_log "submission-login: Info: Login: user=<alice@example.test>" "rip=203.0.113.43,"
    postfix_log ": connect from unknown[203.0.113.44]"
    postfix_log "client=unknown[203.0.113.44]"
    wait_for_mail bob@example.test "$subject"
}

# ---------------------------------------------------------------- main

echo "dev-backends selftest ($RUN_TAG) against $STATE"
check "IMAP $BACKEND_IMAP_PORT: alice logs in and sees the seeded messages" imap_login_sees_seed_messages
check "IMAP STARTTLS $BACKEND_IMAP_PORT and IMAPS $BACKEND_IMAPS_PORT with certificate verification" \
    imap_starttls_and_imaps_verify_the_certificate
check "IMAP ID x-originating-ip from 127.0.0.1 becomes Dovecot's rip" imap_id_forwards_client_address
check "IMAP master user: LOGIN user*master and AUTHENTICATE PLAIN with authzid" imap_master_user_logs_in_as_alice
check "POP3 $BACKEND_POP3_PORT: login, STLS offered, RETR 1; POP3S $BACKEND_POP3S_PORT RETR" pop3_login_and_retr
check "POP3 XCLIENT ADDR from 127.0.0.1 becomes Dovecot's rip" pop3_xclient_forwards_client_address
check "POP3 master user" pop3_master_user
check "submission $BACKEND_SUBMISSION_PORT: alice (AUTH PLAIN) to bob arrives in bob's INBOX" submission_delivers_to_bob
check "submission: STARTTLS offered, master user via AUTH PLAIN authzid" submission_offers_starttls_and_master_user
check "submission XCLIENT ADDR from 127.0.0.1 becomes Dovecot's rip" submission_xclient_forwards_client_address
check "relay $BACKEND_SMTP_PORT: unauthenticated mail to bob arrives" relay_delivers_to_bob_without_auth
check "relay $BACKEND_SMTP_PORT: no open relay, unknown users refused, STARTTLS offered" \
    relay_refuses_outside_domains_and_unknown_users
check "relay $BACKEND_SMTP_PORT: XCLIENT ADDR accepted from 127.0.0.1 and used for policy" relay_accepts_xclient
check "PROXY listeners greet after a v1/v2 header and refuse connections without one" \
    proxy_listeners_require_a_header
check "PROXY v2 source address becomes the client address in Dovecot and Postfix" \
    proxy_header_forwards_client_address

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
