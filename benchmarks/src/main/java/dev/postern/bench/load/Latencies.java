package dev.postern.bench.load;

import java.util.Arrays;

/**
 * Every operation's latency of one run, kept exactly (a run is bounded, so the array is too) and summarised by
 * nearest-rank percentiles. Thread-safe.
 */
public final class Latencies {
    private long[] nanos = new long[1024];
    private int count;

    /** Records one operation that took {@code nanos}. */
    public synchronized void record(long nanos) {
        if (count == this.nanos.length) {
            this.nanos = Arrays.copyOf(this.nanos, count * 2);
        }
        this.nanos[count++] = nanos;
    }

    public synchronized int count() {
        return count;
    }

    /** The summary of what was recorded so far. */
    public synchronized Summary summary() {
        long[] sorted = Arrays.copyOf(nanos, count);
        Arrays.sort(sorted);
        return new Summary(
                percentile(sorted, 50),
                percentile(sorted, 90),
                percentile(sorted, 99),
                count == 0 ? 0 : sorted[count - 1]);
    }

    /**
     * The nearest-rank percentile of ascending {@code sorted}: the smallest value with at least {@code p} percent of
     * the values at or below it; 0 for no values.
     */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** Latency percentiles in nanoseconds. */
    public record Summary(long p50, long p90, long p99, long max) {}
}
