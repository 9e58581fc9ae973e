package dev.postern.proxy.frontend;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The pre-authentication phase of one client connection: its timeout ("every pre-auth state a timeout") and its end
 * (logged in and handed over, or closing). The timeout is a timer on the channel's event loop, never a blocked
 * thread, so tests move it with the channel's ticker.
 */
final class PreAuthPhase {
    private final long timeoutMillis;
    private final Runnable onTimeout;
    private ScheduledFuture<?> timer;
    private boolean over;

    PreAuthPhase(Duration timeout, Runnable onTimeout) {
        this.timeoutMillis = timeout.toMillis();
        this.onTimeout = onTimeout;
    }

    /** True once the phase has ended: nothing the client sends is a command any more. */
    boolean isOver() {
        return over;
    }

    /** Ends the phase; the timeout will not fire. */
    void end() {
        over = true;
        stopTimeout();
    }

    /** Arms the timeout from now on {@code executor}, in place of one that was armed. */
    void startTimeout(EventExecutor executor) {
        stopTimeout();
        timer = executor.schedule(onTimeout, timeoutMillis, TimeUnit.MILLISECONDS);
    }

    void stopTimeout() {
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
