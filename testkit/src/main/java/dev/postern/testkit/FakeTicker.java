package dev.postern.testkit;

import io.netty.util.concurrent.MockTicker;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A clock that moves only when a test says so: one clock for every time source the code under test takes. It is a
 * Netty {@link MockTicker} (an {@code EmbeddedChannel}'s scheduled tasks run on it), a {@link LongSupplier} of
 * nanoseconds, and has the shape of Caffeine's {@code Ticker} ({@code ticker::read}). So the timers of a channel and
 * the clock a handler reads move together, and no test sleeps.
 *
 * <p>It starts at one second, not zero, so that code keeping zero for "never" sees a real instant.
 */
public final class FakeTicker implements MockTicker, LongSupplier {
    private static final long START_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final AtomicLong nanos = new AtomicLong(START_NANOS);

    /** The current reading in nanoseconds (Caffeine's {@code Ticker.read}). */
    public long read() {
        return nanos.get();
    }

    @Override
    public long getAsLong() {
        return read();
    }

    @Override
    public long nanoTime() {
        return read();
    }

    /** Moves the clock forward by {@code duration}. */
    public void advance(Duration duration) {
        advance(duration.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void advance(long amount, TimeUnit unit) {
        if (amount < 0) {
            throw new IllegalArgumentException("a clock only moves forward: " + amount + " " + unit);
        }
        nanos.addAndGet(unit.toNanos(amount));
        synchronized (this) {
            notifyAll();
        }
    }

    /** Blocks until another thread has moved the clock past the delay, as Netty's own mock ticker does. */
    @Override
    public void sleep(long delay, TimeUnit unit) throws InterruptedException {
        long until = read() + unit.toNanos(delay);
        synchronized (this) {
            while (read() < until) {
                wait();
            }
        }
    }
}
