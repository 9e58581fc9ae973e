package dev.postern.proxy.session;

import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * The one INFO line a session gets when it closes, in two forms at once: the message, built by hand into one string
 * for people ({@code session 3fa9c01 closed: listener=imaps client=...}), and the same facts as key-value pairs for
 * the JSON format, where each is a field of its own and the byte counts and duration stay numbers. Neither carries
 * anything the client sent but its user name: no password, no AUTH payload, no message content.
 */
final class SessionCloseLine {
    private SessionCloseLine() {}

    /** Writes the line for {@code s} at INFO; the caller checked that INFO is on. */
    static void log(Logger log, Session s) {
        // runs once per session on the event loop: one string, no MDC maps, no second formatting pass; the pairs
        // are read by the JSON encoder only (the text layout prints the message)
        LoggingEventBuilder event = log.atInfo()
                .addKeyValue("session", s.id())
                .addKeyValue("listener", s.listener().name())
                .addKeyValue("protocol", s.protocol().configName())
                .addKeyValue("client", address(s.clientAddress()));
        if (s.proxiedBy() != null) {
            event.addKeyValue("via", address(s.proxiedBy()));
            if (s.proxiedTls() != null) {
                event.addKeyValue("via_tls", s.proxiedTls());
            }
        }
        if (s.backendId() != null) {
            event.addKeyValue("pool", s.pool()).addKeyValue("backend", s.backendId());
        }
        if (s.user() != null) {
            event.addKeyValue("user", s.user());
        }
        if (s.tlsProtocol() != null) {
            event.addKeyValue("tls", s.tlsProtocol());
        }
        event.addKeyValue("reason", s.closeReason().label());
        if (s.closeDetail() != null) {
            event.addKeyValue("detail", s.closeDetail());
        }
        // the session's age read once: the JSON field and the text must not differ by the time between two reads
        long durationMs = s.ageNanos() / 1_000_000;
        event.addKeyValue("duration_ms", durationMs)
                .addKeyValue("bytes_in", s.bytesFromClient())
                .addKeyValue("bytes_out", s.bytesToClient())
                .log(text(s, durationMs));
    }

    /** The text form, as the text format prints it. */
    static String text(Session s) {
        return text(s, s.ageNanos() / 1_000_000);
    }

    private static String text(Session s, long durationMs) {
        StringBuilder b = new StringBuilder(200);
        b.append("session ")
                .append(s.id())
                .append(" closed: listener=")
                .append(s.listener().name());
        b.append(" client=");
        appendAddress(b, s.clientAddress());
        if (s.proxiedBy() != null) {
            b.append(" via=");
            appendAddress(b, s.proxiedBy());
            if (s.proxiedTls() != null) {
                b.append(" via-tls=").append(s.proxiedTls());
            }
        }
        b.append(" backend=");
        if (s.backendId() == null) {
            b.append('-');
        } else {
            b.append(s.pool()).append('/').append(s.backendId());
        }
        String user = s.user();
        b.append(" user=").append(user == null ? "-" : user);
        b.append(" tls=").append(s.tlsProtocol() == null ? "-" : s.tlsProtocol());
        b.append(" reason=").append(s.closeReason().label());
        if (s.closeDetail() != null) {
            b.append(" (").append(s.closeDetail()).append(')');
        }
        b.append(" duration=").append(durationMs).append("ms in=").append(s.bytesFromClient());
        b.append(" out=").append(s.bytesToClient());
        return b.toString();
    }

    private static String address(InetSocketAddress a) {
        if (a == null) {
            return "-";
        }
        StringBuilder b = new StringBuilder(48);
        appendAddress(b, a);
        return b.toString();
    }

    private static void appendAddress(StringBuilder b, InetSocketAddress a) {
        if (a == null) {
            b.append('-');
            return;
        }
        String host =
                a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        if (host.indexOf(':') >= 0) {
            b.append('[').append(host).append(']');
        } else {
            b.append(host);
        }
        b.append(':').append(a.getPort());
    }
}
