package dev.postern.proxy.session;

import java.util.Locale;

/** Why a session ended. A bounded set: it is a metric label and the word in the session's close log line. */
public enum CloseReason {
    /** The client closed its connection (or said LOGOUT/QUIT and the backend closed after). */
    CLIENT_CLOSED,
    /** The backend closed its connection. */
    BACKEND_CLOSED,
    /** No bytes in either direction for the idle timeout. */
    IDLE_TIMEOUT,
    /** Authentication did not finish within the pre-auth timeout. */
    PRE_AUTH_TIMEOUT,
    /**
     * The listener's PROXY protocol rules refused the connection: a header from an untrusted address, none when one
     * is required, a malformed one, or one that did not arrive in time (the detail says which).
     */
    PROXY_HEADER,
    /** The TLS handshake with the client failed or timed out. */
    TLS_HANDSHAKE_FAILED,
    /** Bytes followed STARTTLS before the handshake (CVE-2011-0411 class). */
    STARTTLS_INJECTION,
    /** The client broke the protocol beyond what an error reply can handle, or hit a limit. */
    PROTOCOL_ERROR,
    /** A configured limit (connections, line length, bad commands, failed logins). */
    LIMIT,
    /** Authentication failed too often on this connection. */
    AUTH_FAILED,
    /** No backend of the pool could be reached. */
    NO_BACKEND,
    /** The backend misbehaved (bad greeting, TLS failure, unexpected reply). */
    BACKEND_ERROR,
    /** An I/O error on the client side (reset, broken pipe). */
    CLIENT_ERROR,
    /** Postern is shutting down and the grace period ended. */
    SHUTDOWN,
    /** An operator closed it (admin API, drain deadline). */
    ADMIN,
    /** A bug: an unexpected exception in Postern. */
    INTERNAL_ERROR;

    private final String label = name().toLowerCase(Locale.ROOT).replace('_', '-');

    /** The lowercase, hyphenated name used in logs and metrics. */
    public String label() {
        return label;
    }
}
