package dev.postern.proxy.routing;

import java.util.Locale;

/**
 * Why a check failed: a {@link Reason} from a closed set (the metric label) and a message for the admin API and the
 * logs ({@code login refused: NO [AUTHENTICATIONFAILED] Authentication failed.}). Messages come from the backend's
 * replies and the network, never from what Postern sent, so they hold no password. Carries no stack trace: a failed
 * check is an expected outcome.
 */
public final class CheckFailure extends Exception {
    private static final long serialVersionUID = 1L;

    /** The bounded reasons of a failed check. */
    public enum Reason {
        /** The connection was refused, reset or not made in time. */
        CONNECT,
        /** The check did not end within its timeout. */
        TIMEOUT,
        /** The backend greeted wrongly (or with a refusal). */
        GREETING,
        /** TLS with the backend failed (implicit or after STARTTLS). */
        TLS,
        /** The backend refused the probe user's login. */
        LOGIN_REFUSED,
        /** The command after the login was refused. */
        COMMAND,
        /** The backend closed the connection early. */
        CLOSED,
        /** Anything else the backend got wrong. */
        PROTOCOL;

        /** The metric label value: lower case, hyphens. */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    private final Reason reason;

    public CheckFailure(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
