package dev.postern.testkit;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition with a deadline, polling: the test-side replacement for sleeping. */
public final class Await {
    private static final long MAX_PAUSE_MILLIS = 50;

    private Await() {}

    /** Polls {@code condition} until it holds; fails with {@code what} when {@code timeout} passes first. */
    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        value(what, timeout, () -> condition.getAsBoolean() ? Boolean.TRUE : null);
    }

    /**
     * Polls {@code condition} every {@code interval} (not backing off), for a test that measures how long something
     * takes and needs that resolution.
     */
    public static void until(String what, Duration timeout, Duration interval, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: " + what);
            }
            LockSupport.parkNanos(interval.toNanos());
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
    }

    /** Polls {@code supplier} until it returns non-null; returns that value. */
    public static <T> T value(String what, Duration timeout, Supplier<T> supplier) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 1;
        while (true) {
            T value = supplier.get();
            if (value != null) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: " + what);
            }
            pauseMillis(pause);
            pause = Math.min(MAX_PAUSE_MILLIS, pause * 2);
        }
    }

    private static void pauseMillis(long millis) {
        // a poll interval, not a wait for an event: the loop above re-checks the condition each time
        LockSupport.parkNanos(millis * 1_000_000);
        if (Thread.interrupted()) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }
}
