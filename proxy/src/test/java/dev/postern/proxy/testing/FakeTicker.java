package dev.postern.proxy.testing;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that tests move by hand, for caches that expire (no sleeping). */
public final class FakeTicker implements Ticker {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    @Override
    public long read() {
        return nanos.get();
    }

    /** Moves the clock forward. */
    public void advance(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }
}
