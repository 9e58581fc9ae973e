package dev.postern.proxy.cluster;

import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import java.util.concurrent.CompletionException;

/** How a command to Redis failed, in the words of the metrics and the logs. */
final class RedisErrors {
    private RedisErrors() {}

    /** A command was not sent: there is no connection to Redis now. */
    static final class NotConnectedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotConnectedException() {
            super("not connected", null, false, false);
        }
    }

    /** The metric word for how a command ended. */
    static String outcome(Throwable failure) {
        Throwable e = unwrap(failure);
        if (e == null) {
            return "ok";
        }
        if (e instanceof RedisCommandTimeoutException) {
            return "timeout";
        }
        return e instanceof NotConnectedException || e instanceof RedisConnectionException ? "unavailable" : "error";
    }

    static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    /** A failure in words for a log line: the innermost message, which names the address and the cause. */
    static String reason(Throwable failure) {
        Throwable e = unwrap(failure);
        while (e.getCause() != null && e.getCause() != e) {
            e = e.getCause();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
