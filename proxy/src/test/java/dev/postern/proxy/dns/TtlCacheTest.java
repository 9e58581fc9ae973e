package dev.postern.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.testkit.FakeTicker;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The lookup cache: lifetimes per value, shared pending lookups, a clock moved by hand. */
class TtlCacheTest {
    private final FakeTicker ticker = new FakeTicker();
    private final AtomicInteger loads = new AtomicInteger();
    // a value's lifetime is its length in seconds
    private final TtlCache<String, String> cache = new TtlCache<>(
            ticker::read, 100, v -> Duration.ofSeconds(v.length()).toNanos());

    private CompletionStage<String> load(String key) {
        loads.incrementAndGet();
        return CompletableFuture.completedFuture(key);
    }

    private String get(String key) throws Exception {
        return cache.get(key, this::load).toCompletableFuture().get();
    }

    @Test
    void aValueIsKeptForItsLifetime() throws Exception {
        assertThat(get("abc")).isEqualTo("abc");
        ticker.advance(Duration.ofMillis(2999));
        assertThat(get("abc")).isEqualTo("abc");
        assertThat(loads).hasValue(1);

        ticker.advance(Duration.ofMillis(2));
        get("abc");
        assertThat(loads).hasValue(2);
    }

    @Test
    void aValueWithoutLifetimeIsNotKept() throws Exception {
        get("");
        get("");

        assertThat(loads).hasValue(2);
    }

    @Test
    void callersOfAPendingKeyShareItsLookup() throws Exception {
        CompletableFuture<String> slow = new CompletableFuture<>();
        CompletionStage<String> first = cache.get("k", k -> {
            loads.incrementAndGet();
            return slow;
        });
        CompletionStage<String> second = cache.get("k", this::load);

        slow.complete("value");

        assertThat(first.toCompletableFuture().get()).isEqualTo("value");
        assertThat(second.toCompletableFuture().get()).isEqualTo("value");
        assertThat(loads).hasValue(1);
    }

    @Test
    void aValueIsStoredBeforeItsCallersContinue() throws Exception {
        CompletableFuture<String> slow = new CompletableFuture<>();
        CompletionStage<String> first = cache.get("k", k -> slow);
        AtomicInteger foundStored = new AtomicInteger();
        first.thenRun(() -> cache.get("k", k -> {
            foundStored.set(-1);
            return CompletableFuture.completedFuture("again");
        }));

        slow.complete("value");

        assertThat(foundStored).as("the continuation found the value stored").hasValue(0);
    }

    @Test
    void aLoadThatThrowsFailsItsCallersAndIsNotPending() {
        assertThatThrownBy(() -> cache.get("k", k -> {
                            throw new IllegalStateException("boom");
                        })
                        .toCompletableFuture()
                        .get())
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);

        assertThat(cache.get("k", this::load)).isCompleted();
    }
}
