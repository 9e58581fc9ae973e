#!/usr/bin/env bash
# Private Dovecot + Postfix on loopback for Postern development and the
# integration tests. Nothing here touches the system instances, /etc/dovecot
# or /etc/postfix: both servers run from config and state directories under
# one state directory.
#
# Usage: scripts/dev-backends.sh start|stop|status|restart|doveadm ARGS...
#
#   start     create the state directory on first use (TLS certificate, users,
#             seeded mailboxes), start whatever is not running, wait until
#             every listener greets, print the ports. No-op when healthy.
#   stop      stop both servers and wait until the ports are free. No-op when
#             stopped.
#   status    print the ports and whether each listener greets; exit 0 only
#             when all are up.
#   restart   stop, then start (the state directory is kept).
#   doveadm   run doveadm against this instance, e.g. count the messages in
#             bob's INBOX (prints "messages=N"):
#               scripts/dev-backends.sh doveadm mailbox status -u bob@example.test messages INBOX
#             which is the same as
#               doveadm -c <state>/dovecot/dovecot.conf mailbox status -u bob@example.test messages INBOX
#             Other useful ones: "search -u bob@example.test mailbox INBOX header Subject TEXT",
#             "fetch -u bob@example.test 'hdr.subject' mailbox INBOX".
#
# Environment:
#   POSTERN_BACKENDS_DIR          state directory (default <repo>/run/backends)
#   POSTERN_BACKENDS_PORT_OFFSET  added to every port (default 0), for a second instance
#   POSTERN_BACKENDS_TIMEOUT      seconds start/stop wait for the listeners (default 60)
#
# Ports (offset 0), all on 127.0.0.1:
#   2143 Dovecot IMAP (STARTTLS)      2993 IMAPS       2243 IMAP, PROXY header required
#   2110 Dovecot POP3 (STLS)          2995 POP3S       2210 POP3, PROXY header required
#   2587 Dovecot submission (STARTTLS, relays to 2025) 2687 submission, PROXY header required
#   2025 Postfix SMTP relay/MX (STARTTLS, XCLIENT)     2125 SMTP, PROXY header required
#   2419 Dovecot ManageSieve (STARTTLS, XCLIENT); scripts in <state>/mail/DOMAIN/USER/sieve
#   2324 Dovecot LMTP (delivery into the mailboxes, XCLIENT from 127.0.0.0/8)
#   2424 not served here: Postfix delivers alice+postern@ and bob+postern@example.test
#        with lmtp: to 127.0.0.1:2424, where a test runs Postern's LMTP listener
# Users: alice@example.test / alice-pw, bob@example.test / bob-pw; master user
# proxy-master / master-pw ("alice@example.test*proxy-master", or SASL PLAIN
# with authzid). start also writes <state>/ports.env (KEY=value lines) for tests.
# Needs root: Dovecot and Postfix start as root and drop privileges.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true # keep "&" literal in ${var//pattern/replacement}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
TEMPLATE_DIR=$SCRIPT_DIR/backends
PROBE=$TEMPLATE_DIR/probe.py

STATE=${POSTERN_BACKENDS_DIR:-$REPO_DIR/run/backends}
[[ $STATE == /* ]] || STATE=$PWD/$STATE
OFFSET=${POSTERN_BACKENDS_PORT_OFFSET:-0}
TIMEOUT=${POSTERN_BACKENDS_TIMEOUT:-60}

# The unprivileged owner of every mailbox.
VMAIL_USER=postern-vmail
USERS=(alice bob)
DOMAIN=example.test
SEED_MESSAGES=3

DOVECOT_CONF_DIR=$STATE/dovecot
DOVECOT_CONF=$DOVECOT_CONF_DIR/dovecot.conf
DOVECOT_RUN=$DOVECOT_CONF_DIR/run
DOVECOT_STATE=$DOVECOT_CONF_DIR/state
POSTFIX_CONF=$STATE/postfix/etc
POSTFIX_QUEUE=$STATE/postfix/spool
POSTFIX_DATA=$STATE/postfix/data
DOVECOT_LOG=$STATE/dovecot.log
POSTFIX_LOG=$STATE/postfix.log
TLS_DIR=$STATE/tls
PROBED= # the last probe.py report, "NAME up" / "NAME down: REASON" lines

die() {
    echo "dev-backends: $*" >&2
    exit 1
}

log() {
    echo "dev-backends: $*"
}

# ---------------------------------------------------------------- ports

validate_settings() {
    [[ $OFFSET =~ ^-?[0-9]+$ ]] || die "POSTERN_BACKENDS_PORT_OFFSET must be an integer, got '$OFFSET'"
    [[ $TIMEOUT =~ ^[0-9]+$ ]] || die "POSTERN_BACKENDS_TIMEOUT must be whole seconds, got '$TIMEOUT'"
    # The path ends up unquoted in Dovecot/Postfix configs and in ports.env.
    [[ $STATE =~ ^[A-Za-z0-9._/-]+$ ]] || die "state directory '$STATE' may only contain A-Z a-z 0-9 . _ / -"
    # Unix socket paths are limited to 107 bytes; Dovecot's longest is about 40 below base_dir.
    ((${#DOVECOT_RUN} <= 60)) || die "state directory '$STATE' is too long for unix socket paths"
}

# Called after validate_settings: OFFSET goes through shell arithmetic.
compute_ports() {
    PORT_IMAP=$((2143 + OFFSET))
    PORT_IMAPS=$((2993 + OFFSET))
    PORT_IMAP_PROXY=$((2243 + OFFSET))
    PORT_POP3=$((2110 + OFFSET))
    PORT_POP3S=$((2995 + OFFSET))
    PORT_POP3_PROXY=$((2210 + OFFSET))
    PORT_SUBMISSION=$((2587 + OFFSET))
    PORT_SUBMISSION_PROXY=$((2687 + OFFSET))
    PORT_SMTP=$((2025 + OFFSET))
    PORT_SMTP_PROXY=$((2125 + OFFSET))
    PORT_SIEVE=$((2419 + OFFSET))
    PORT_LMTP=$((2324 + OFFSET))
    PORT_POSTERN_LMTP=$((2424 + OFFSET))
    ((PORT_SMTP >= 1024 && PORT_POP3S <= 65535)) || # lowest and highest
        die "POSTERN_BACKENDS_PORT_OFFSET=$OFFSET puts ports outside 1024..65535"
}

# name=port/protocol/mode, as probe.py takes them; this order is the print order.
listeners() {
    cat <<EOF
dovecot-imap=$PORT_IMAP/imap/plain
dovecot-imaps=$PORT_IMAPS/imap/tls
dovecot-imap-proxy=$PORT_IMAP_PROXY/imap/proxy
dovecot-pop3=$PORT_POP3/pop3/plain
dovecot-pop3s=$PORT_POP3S/pop3/tls
dovecot-pop3-proxy=$PORT_POP3_PROXY/pop3/proxy
dovecot-submission=$PORT_SUBMISSION/smtp/plain
dovecot-submission-proxy=$PORT_SUBMISSION_PROXY/smtp/proxy
postfix-smtp=$PORT_SMTP/smtp/plain
postfix-smtp-proxy=$PORT_SMTP_PROXY/smtp/proxy
dovecot-sieve=$PORT_SIEVE/managesieve/plain
dovecot-lmtp=$PORT_LMTP/smtp/plain
EOF
}

describe() {
    case $1 in
    *-imap | *-pop3 | *-submission) echo "plain, STARTTLS available, plaintext auth allowed" ;;
    *-imaps | *-pop3s) echo "implicit TLS" ;;
    postfix-smtp) echo "plain, STARTTLS offered, XCLIENT from 127.0.0.0/8, no AUTH" ;;
    dovecot-lmtp) echo "plain LMTP into the mailboxes, XCLIENT from 127.0.0.0/8" ;;
    *-proxy) echo "plain, PROXY v1/v2 header required" ;;
    dovecot-sieve) echo "plain, STARTTLS available, plaintext auth allowed" ;;
    esac
}

# Prints the port table; with probe.py output as $1, adds each listener's state.
print_ports() {
    local probed=${1:-} spec name port state
    echo "Postern dev backends on 127.0.0.1 (offset $OFFSET, state $STATE)"
    while IFS= read -r spec; do
        name=${spec%%=*}
        port=${spec#*=}
        port=${port%%/*}
        state=
        if [[ -n $probed ]]; then
            state=$(grep -m1 "^$name " <<<"$probed" | cut -d' ' -f2-)
        fi
        printf '  %-26s %5s  %-6s %s\n' "$name" "$port" "${state%%:*}" "$(describe "$name")"
    done < <(listeners)
    echo "  logs: $DOVECOT_LOG, $POSTFIX_LOG"
    echo "  count bob's INBOX: $0 doveadm mailbox status -u bob@$DOMAIN messages INBOX"
}

# Lets tests read the live ports and paths instead of recomputing them.
write_ports_env() {
    cat >"$STATE/ports.env.tmp" <<EOF
# Written by scripts/dev-backends.sh start. KEY=value, no quoting.
POSTERN_BACKENDS_DIR=$STATE
POSTERN_BACKENDS_PORT_OFFSET=$OFFSET
BACKEND_IMAP_PORT=$PORT_IMAP
BACKEND_IMAPS_PORT=$PORT_IMAPS
BACKEND_IMAP_PROXY_PORT=$PORT_IMAP_PROXY
BACKEND_POP3_PORT=$PORT_POP3
BACKEND_POP3S_PORT=$PORT_POP3S
BACKEND_POP3_PROXY_PORT=$PORT_POP3_PROXY
BACKEND_SUBMISSION_PORT=$PORT_SUBMISSION
BACKEND_SUBMISSION_PROXY_PORT=$PORT_SUBMISSION_PROXY
BACKEND_SMTP_PORT=$PORT_SMTP
BACKEND_SMTP_PROXY_PORT=$PORT_SMTP_PROXY
BACKEND_SIEVE_PORT=$PORT_SIEVE
BACKEND_LMTP_PORT=$PORT_LMTP
POSTERN_LMTP_PORT=$PORT_POSTERN_LMTP
BACKEND_DOVECOT_CONF=$DOVECOT_CONF
BACKEND_DOVECOT_LOG=$DOVECOT_LOG
BACKEND_POSTFIX_LOG=$POSTFIX_LOG
BACKEND_TLS_CERT=$TLS_DIR/cert.pem
EOF
    mv "$STATE/ports.env.tmp" "$STATE/ports.env"
}

all_ports() {
    listeners | sed 's/^[^=]*=//; s|/.*||'
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ---------------------------------------------------------------- state dir

require_root() {
    ((EUID == 0)) || die "must run as root (Dovecot and Postfix start as root, then drop privileges)"
    local cmd
    for cmd in dovecot doveadm postfix postconf openssl python3 flock; do
        command -v "$cmd" >/dev/null || die "missing command: $cmd"
    done
}

# Login, auth and delivery processes run as dovenull, dovecot, postfix and
# postern-vmail: every directory above the state dir must let them through.
check_traversable() {
    local dir=$STATE
    while [[ $dir != / ]]; do
        dir=$(dirname "$dir")
        if [[ -d $dir ]] && ((!(8#$(stat -c %a "$dir") & 1))); then
            die "$dir is not world-searchable (o+x); unprivileged mail processes could not reach $STATE"
        fi
    done
}

ensure_vmail_user() {
    if ! id -u "$VMAIL_USER" >/dev/null 2>&1; then
        log "creating system user $VMAIL_USER (owner of the dev mailboxes)"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --comment "Postern dev backend mailboxes" "$VMAIL_USER"
    fi
    # shellcheck disable=SC2034 # read by render() through ${!name}
    VMAIL_UID=$(id -u "$VMAIL_USER") VMAIL_GID=$(id -g "$VMAIL_USER")
}

ensure_dirs() {
    install -d -m 0755 "$STATE" "$DOVECOT_CONF_DIR" "$STATE/postfix" "$POSTFIX_CONF"
    # postfix chdirs into the queue before "check" can create its subdirectories.
    install -d -m 0755 "$POSTFIX_QUEUE"
    install -d -m 0700 -o postfix -g postfix "$POSTFIX_DATA"
    install -d -m 0700 "$TLS_DIR"
    install -d -m 0750 "$DOVECOT_STATE"
    install -d -m 0700 -o "$VMAIL_USER" -g "$VMAIL_USER" "$STATE/mail"
    # Created up front so that tests need not be root to read them (they hold
    # no secrets); dovecot-lda runs as the mail user and needs its own file.
    [[ -e $DOVECOT_LOG ]] || install -m 0644 /dev/null "$DOVECOT_LOG"
    [[ -e $POSTFIX_LOG ]] || install -m 0644 /dev/null "$POSTFIX_LOG"
    [[ -e $STATE/dovecot-lda.log ]] ||
        install -m 0644 -o "$VMAIL_USER" -g "$VMAIL_USER" /dev/null "$STATE/dovecot-lda.log"
}

# Self-signed, for the backend listeners only; Postern's own certificates are
# minted by its tests.
ensure_certificate() {
    [[ -s $TLS_DIR/cert.pem && -s $TLS_DIR/key.pem ]] && return
    log "generating self-signed certificate for localhost"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$TLS_DIR/key.pem.tmp" -out "$TLS_DIR/cert.pem.tmp" 2>/dev/null
    chmod 0600 "$TLS_DIR/key.pem.tmp"
    chmod 0644 "$TLS_DIR/cert.pem.tmp"
    mv "$TLS_DIR/key.pem.tmp" "$TLS_DIR/key.pem"
    mv "$TLS_DIR/cert.pem.tmp" "$TLS_DIR/cert.pem"
}

hash_password() {
    # -O: do not read /etc/dovecot/dovecot.conf.
    doveadm -O pw -s SHA512-CRYPT -p "$1"
}

# passwd-file format: user:password:uid:gid:gecos:home:shell:extra. uid, gid
# and home come from mail_uid/mail_gid/mail_home in dovecot.conf.
ensure_users() {
    local user tmp
    if [[ ! -s $DOVECOT_CONF_DIR/users ]]; then
        tmp=$DOVECOT_CONF_DIR/users.tmp
        : >"$tmp"
        for user in "${USERS[@]}"; do
            printf '%s@%s:%s::::::\n' "$user" "$DOMAIN" "$(hash_password "$user-pw")" >>"$tmp"
        done
        chown root:dovecot "$tmp"
        chmod 0640 "$tmp"
        mv "$tmp" "$DOVECOT_CONF_DIR/users"
    fi
    if [[ ! -s $DOVECOT_CONF_DIR/master-users ]]; then
        tmp=$DOVECOT_CONF_DIR/master-users.tmp
        printf 'proxy-master:%s::::::\n' "$(hash_password master-pw)" >"$tmp"
        chown root:dovecot "$tmp"
        chmod 0640 "$tmp"
        mv "$tmp" "$DOVECOT_CONF_DIR/master-users"
    fi
    # Postfix must know which example.test recipients exist (reject the rest
    # at RCPT time instead of bouncing later).
    for user in "${USERS[@]}"; do
        printf '%s@%s OK\n' "$user" "$DOMAIN"
        printf '%s+postern@%s OK\n' "$user" "$DOMAIN"
    done | replace_if_changed "$POSTFIX_CONF/virtual-mailboxes"
    # user+postern@ goes through Postern's LMTP listener (a test's), the rest to dovecot-lda.
    for user in "${USERS[@]}"; do
        printf '%s+postern@%s lmtp:inet:127.0.0.1:%s\n' "$user" "$DOMAIN" "$PORT_POSTERN_LMTP"
    done | replace_if_changed "$POSTFIX_CONF/transport"
}

# Writes the seed messages straight into Maildir/new, once per user: the
# mailbox must exist before Dovecot runs, and a restart keeps what tests added.
seed_mailboxes() {
    local user home i file
    for user in "${USERS[@]}"; do
        home=$STATE/mail/$DOMAIN/$user
        [[ -d $home ]] && continue
        log "seeding $SEED_MESSAGES messages into $user@$DOMAIN's INBOX"
        install -d -m 0700 -o "$VMAIL_USER" -g "$VMAIL_USER" \
            "$STATE/mail/$DOMAIN" "$home.tmp" "$home.tmp/Maildir" \
            "$home.tmp/Maildir/cur" "$home.tmp/Maildir/new" "$home.tmp/Maildir/tmp"
        for ((i = 1; i <= SEED_MESSAGES; i++)); do
            file=$home.tmp/Maildir/new/$((1704067200 + i)).P0Q$i.postern-seed
            cat >"$file" <<EOF
Return-Path: <postmaster@$DOMAIN>
From: Postern dev backend <postmaster@$DOMAIN>
To: $user@$DOMAIN
Subject: Welcome $user $i
Date: Mon, 01 Jan 2024 00:00:$(printf %02d "$i") +0000
Message-ID: <seed-$user-$i@$DOMAIN>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Seed message $i for $user@$DOMAIN, written by scripts/dev-backends.sh.
EOF
            chown "$VMAIL_USER:$VMAIL_USER" "$file"
            chmod 0600 "$file"
        done
        mv "$home.tmp" "$home"
    done
}

# Replaces @NAME@ tokens with the shell variable NAME; refuses leftovers so a
# typo in a template fails here rather than as a cryptic server error.
render() {
    local template=$TEMPLATE_DIR/$1 out=$2 content name
    content=$(<"$template")
    for name in STATE INSTANCE DOVECOT_CONF_DIR DOVECOT_RUN DOVECOT_CONF DOVECOT_STATE VMAIL_USER \
        POSTFIX_CONF POSTFIX_QUEUE POSTFIX_DATA VMAIL_UID VMAIL_GID \
        PORT_IMAP PORT_IMAPS PORT_IMAP_PROXY PORT_POP3 PORT_POP3S PORT_POP3_PROXY \
        PORT_SIEVE \
        PORT_SUBMISSION PORT_SUBMISSION_PROXY PORT_SMTP PORT_SMTP_PROXY PORT_LMTP PORT_POSTERN_LMTP; do
        content=${content//@${name}@/${!name}}
    done
    if [[ $content =~ @[A-Z_]+@ ]]; then
        die "$template: unknown token ${BASH_REMATCH[0]}"
    fi
    printf '%s\n' "$content" | replace_if_changed "$out"
}

# Writes stdin to FILE only when it differs, and dates a new file 2 s back:
# every Postfix program that reads a config file modified within the last
# second pauses until it "cools down", which made "postfix start" ~3 s slower.
replace_if_changed() {
    local out=$1
    cat >"$out.tmp"
    if cmp -s "$out.tmp" "$out"; then
        rm -f "$out.tmp"
    else
        touch -d "@$((EPOCHSECONDS - 2))" "$out.tmp"
        mv "$out.tmp" "$out"
    fi
}

render_configs() {
    # shellcheck disable=SC2034 # read by render() through ${!name}
    INSTANCE=postern-backends-$OFFSET
    render dovecot.conf.in "$DOVECOT_CONF"
    render postfix-main.cf.in "$POSTFIX_CONF/main.cf"
    render postfix-master.cf.in "$POSTFIX_CONF/master.cf"
}

prepare_state() {
    check_traversable
    ensure_vmail_user
    ensure_dirs
    ensure_certificate
    ensure_users
    seed_mailboxes
    render_configs
}

# ---------------------------------------------------------------- processes

# Prints the pid when the process in PIDFILE is alive and is COMMAND. A pid
# file outlives a killed server and pids get reused, hence the name check; a
# killed master can linger as a zombie until init reaps it, hence "not Z".
live_pid() {
    local pidfile=$1 command=$2 pid stat
    [[ -r $pidfile ]] || return 1
    pid=$(tr -d ' \n' <"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ $stat == "$pid ($command) "[!Z]* ]] || return 1
    echo "$pid"
}

dovecot_pid() { live_pid "$DOVECOT_RUN/master.pid" dovecot; }
postfix_pid() { live_pid "$POSTFIX_QUEUE/pid/master.pid" master; }

start_dovecot() {
    if dovecot_pid >/dev/null; then
        return
    fi
    log "starting Dovecot"
    # Left behind by a killed master. Dovecot refuses to start while the pid in
    # it still exists, and a not yet reaped zombie does.
    rm -f "$DOVECOT_RUN/master.pid"
    # dovecot forks into the background once its listeners are bound.
    # The daemon must not inherit the start lock (fd 9) or our stdout/stderr:
    # it would hold them forever, and a caller reading our output to EOF (a
    # test harness, "| tee") would hang. Startup errors land in its log.
    dovecot -c "$DOVECOT_CONF" </dev/null >>"$DOVECOT_LOG" 2>&1 9>&- ||
        fail_start "dovecot did not start" "$DOVECOT_LOG"
}

start_postfix() {
    if postfix_pid >/dev/null; then
        return
    fi
    log "starting Postfix"
    # /etc/postfix/main.cf does not list our directory in
    # alternate_config_directories, and need not: Postfix only enforces that
    # list when a non-root user passes a config dir to a set-gid program
    # (postdrop, postqueue); "postfix -c DIR" run by root is trusted. "start"
    # runs "check" first, which creates the queue subdirectories with the
    # right owners.
    # Postfix's master detaches from stdio itself; fd 9 is the start lock.
    postfix -c "$POSTFIX_CONF" start </dev/null 9>&- ||
        fail_start "postfix did not start" "$POSTFIX_LOG"
}

show_log_tails() {
    local file
    for file in "$@"; do
        [[ -s $file ]] || continue
        echo "---- last lines of $file" >&2
        tail -n 25 "$file" >&2
    done
}

# fail_start MESSAGE [LOG...]: the tails of the given logs (default: both).
fail_start() {
    echo "dev-backends: $1" >&2
    shift
    if (($# == 0)); then
        set -- "$DOVECOT_LOG" "$POSTFIX_LOG"
    fi
    show_log_tails "$@"
    exit 1
}

# Polls every listener for up to $1 seconds; leaves probe.py's report in PROBED.
wait_for_listeners() {
    local wait=$1
    # shellcheck disable=SC2046 # one argument per listener
    if ! PROBED=$(python3 "$PROBE" --wait "$wait" $(listeners)); then
        grep ' down' <<<"$PROBED" >&2 || true
        return 1
    fi
}

wait_until_ports_free() {
    local deadline=$((SECONDS + TIMEOUT)) port
    for port in $(all_ports); do
        while port_in_use "$port"; do
            ((SECONDS < deadline)) || die "port $port is still in use after ${TIMEOUT}s"
            sleep 0.1
        done
    done
}

wait_until_gone() {
    local pid=$1 name=$2 deadline=$((SECONDS + TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
        ((SECONDS < deadline)) || die "$name (pid $pid) still running after ${TIMEOUT}s"
        sleep 0.1
    done
}

# ---------------------------------------------------------------- commands

# Serializes start/stop/restart, so parallel test JVMs can all call "start".
take_lock() {
    install -d -m 0755 "$STATE"
    exec 9>"$STATE/.lock"
    flock -w "$TIMEOUT" 9 || die "another dev-backends.sh holds $STATE/.lock"
}

cmd_start() {
    take_lock
    if dovecot_pid >/dev/null && postfix_pid >/dev/null && wait_for_listeners 0 2>/dev/null; then
        log "already running"
        write_ports_env
        print_ports "$PROBED"
        return
    fi
    local started=$SECONDS
    prepare_state
    start_dovecot
    start_postfix
    wait_for_listeners "$TIMEOUT" || fail_start "listeners did not come up within ${TIMEOUT}s"
    write_ports_env
    log "up in $((SECONDS - started))s"
    print_ports "$PROBED"
}

cmd_stop() {
    local pid stopped=
    if [[ ! -d $STATE ]]; then
        log "not running (no $STATE)"
        return
    fi
    take_lock
    if pid=$(postfix_pid); then
        log "stopping Postfix (pid $pid)"
        postfix -c "$POSTFIX_CONF" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
        wait_until_gone "$pid" Postfix
        stopped=yes
    fi
    if pid=$(dovecot_pid); then
        log "stopping Dovecot (pid $pid)"
        kill -TERM "$pid"
        wait_until_gone "$pid" Dovecot
        stopped=yes
    fi
    if [[ -z $stopped ]]; then
        log "not running"
        return
    fi
    wait_until_ports_free
    log "stopped"
}

cmd_status() {
    local pid rc=0
    wait_for_listeners 0 2>/dev/null || rc=1
    print_ports "$PROBED"
    echo "  Dovecot master: $(pid=$(dovecot_pid) && echo "pid $pid" || echo "not running")"
    echo "  Postfix master: $(pid=$(postfix_pid) && echo "pid $pid" || echo "not running")"
    grep ' down' <<<"$PROBED" | sed 's/^/  /' || true
    return "$rc"
}

main() {
    validate_settings
    compute_ports
    case ${1:-} in
    start)
        require_root
        cmd_start
        ;;
    stop)
        require_root
        cmd_stop
        ;;
    restart)
        require_root
        cmd_stop
        cmd_start
        ;;
    status) cmd_status ;;
    doveadm)
        shift
        [[ -r $DOVECOT_CONF ]] || die "no $DOVECOT_CONF; run '$0 start' first"
        exec doveadm -c "$DOVECOT_CONF" "$@"
        ;;
    *)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
        exit 2
        ;;
    esac
}

main "$@"
