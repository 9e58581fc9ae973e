package dev.postern.testkit;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * A client's own pace, for tests whose subject is time itself (a slowloris trickle, NOOPs spaced under a timeout, a
 * measuring period): ticks at fixed deadlines from the start, so the pace does not drift with the work done between
 * ticks. Not for waiting on an event: use {@link Await} for that.
 */
public final class Pace {
    private final long periodNanos;
    private long next;

    private Pace(Duration period) {
        this.periodNanos = period.toNanos();
        this.next = System.nanoTime() + periodNanos;
    }

    /** Ticks every {@code period}, the first one {@code period} from now. */
    public static Pace every(Duration period) {
        return new Pace(period);
    }

    /** Returns at the next tick's deadline (at once when it has passed), and sets the one after. */
    public void awaitTick() {
        for (long left = next - System.nanoTime(); left > 0; left = next - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
        next += periodNanos;
    }
}
