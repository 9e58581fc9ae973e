package dev.postern.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** One clock, read the three ways the code under test reads time. */
class FakeTickerTest {
    private final FakeTicker ticker = new FakeTicker();

    @Test
    void movesOnlyWhenTold() {
        long start = ticker.read();
        assertThat(start).isPositive();
        assertThat(ticker.read()).isEqualTo(start);
        ticker.advance(Duration.ofMillis(1500));
        ticker.advance(1, TimeUnit.SECONDS);
        assertThat(ticker.read()).isEqualTo(start + TimeUnit.MILLISECONDS.toNanos(2500));
        assertThat(ticker.getAsLong()).isEqualTo(ticker.read());
        assertThat(ticker.nanoTime()).isEqualTo(ticker.read());
    }

    @Test
    void neverMovesBack() {
        assertThatThrownBy(() -> ticker.advance(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aSleeperWakesWhenTheClockPassesItsDeadline() throws Exception {
        CompletableFuture<Long> woke = CompletableFuture.supplyAsync(() -> {
            try {
                ticker.sleep(10, TimeUnit.SECONDS);
                return ticker.read();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        long start = ticker.read();
        ticker.advance(Duration.ofSeconds(5));
        assertThat(woke).isNotDone();
        // the sleeper may not have read its start yet: keep moving until it wakes
        Await.until("the sleeper wakes", Duration.ofSeconds(10), () -> {
            ticker.advance(Duration.ofSeconds(5));
            return woke.isDone();
        });
        assertThat(woke.get(10, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(start + TimeUnit.SECONDS.toNanos(10));
    }
}
