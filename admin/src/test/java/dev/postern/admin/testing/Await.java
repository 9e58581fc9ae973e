package dev.postern.admin.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition with a deadline, polling: the test-side replacement for sleeping. */
public final class Await {
    private Await() {}

    /** Polls {@code condition} until it holds; fails with {@code what} when {@code timeout} passes first. */
    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 1;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: " + what);
            }
            pauseMillis(pause);
            pause = Math.min(50, pause * 2);
        }
    }

    /** Polls {@code supplier} until it returns non-null; returns that value. */
    public static <T> T value(String what, Duration timeout, Supplier<T> supplier) {
        Object[] box = new Object[1];
        until(what, timeout, () -> (box[0] = supplier.get()) != null);
        @SuppressWarnings("unchecked")
        T t = (T) box[0];
        return t;
    }

    private static void pauseMillis(long millis) {
        // a poll interval, not a wait for an event: the loop above re-checks the condition each time
        java.util.concurrent.locks.LockSupport.parkNanos(millis * 1_000_000);
        if (Thread.interrupted()) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }
}
