#!/usr/bin/env python3
"""Check that mail listeners answer with their protocol greeting.

Used by scripts/dev-backends.sh: `start` waits for every listener with a
deadline, `status` tries each one once.

    probe.py [--wait SECONDS] NAME=PORT/PROTOCOL/MODE ...

PROTOCOL is imap, pop3, smtp or managesieve; MODE is plain, tls (implicit TLS, the
certificate is not verified: this only asks "is it up?") or proxy (a PROXY
protocol v2 header is sent first, as Postern does). Prints one line per
listener, "NAME up" or "NAME down: REASON", and exits 0 only if all are up.
"""

import argparse
import socket
import ssl
import struct
import sys
import time

GREETING = {"imap": b"* OK", "pop3": b"+OK", "smtp": b"220"}
GOODBYE = {"imap": b"a LOGOUT\r\n", "pop3": b"QUIT\r\n", "smtp": b"QUIT\r\n"}
# ManageSieve greets with its capability response; the first line names the implementation.
GREETING["managesieve"] = b'"IMPLEMENTATION"'
GOODBYE["managesieve"] = b"LOGOUT\r\n"
PROXY_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
HOST = "127.0.0.1"


def proxy_v2_header(sock):
    """A PROXY v2 header that forwards this connection's own addresses."""
    src_ip, src_port = sock.getsockname()
    dst_ip, dst_port = sock.getpeername()
    addresses = socket.inet_aton(src_ip) + socket.inet_aton(dst_ip) + struct.pack("!HH", src_port, dst_port)
    # 0x21 = version 2, PROXY command; 0x11 = TCP over IPv4.
    return PROXY_V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", len(addresses)) + addresses


def probe_once(port, protocol, mode, timeout):
    """Returns None when the listener greets correctly, else the reason."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as raw:
            sock = raw
            if mode == "proxy":
                raw.sendall(proxy_v2_header(raw))
            elif mode == "tls":
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                sock = context.wrap_socket(raw, server_hostname="localhost")
            line = b""
            while not line.endswith(b"\n"):
                chunk = sock.recv(512)
                if not chunk:
                    break
                line += chunk
            if not line.startswith(GREETING[protocol]):
                return "unexpected greeting %r" % line[:80]
            try:
                sock.sendall(GOODBYE[protocol])
            except OSError:
                pass
            return None
    except (OSError, ssl.SSLError) as e:
        return str(e) or type(e).__name__


def parse_spec(spec):
    name, _, rest = spec.partition("=")
    port, protocol, mode = rest.split("/")
    if protocol not in GREETING or mode not in ("plain", "tls", "proxy"):
        raise ValueError("bad listener spec: " + spec)
    return name, int(port), protocol, mode


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=0, help="keep polling up to this many seconds")
    parser.add_argument("listeners", nargs="+", metavar="NAME=PORT/PROTOCOL/MODE")
    args = parser.parse_args()

    pending = dict((spec[0], spec) for spec in map(parse_spec, args.listeners))
    reasons = {}
    deadline = time.monotonic() + args.wait
    while True:
        for name, (_, port, protocol, mode) in list(pending.items()):
            reason = probe_once(port, protocol, mode, timeout=2.0)
            if reason is None:
                del pending[name]
                reasons.pop(name, None)
            else:
                reasons[name] = reason
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(0.2)

    for spec in args.listeners:
        name = spec.partition("=")[0]
        print("%s up" % name if name not in pending else "%s down: %s" % (name, reasons[name]))
    return 0 if not pending else 1


if __name__ == "__main__":
    sys.exit(main())
