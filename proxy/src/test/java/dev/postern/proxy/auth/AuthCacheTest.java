package dev.postern.proxy.auth;

import static dev.postern.proxy.auth.Requests.login;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.config.CacheConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.testkit.FakeTicker;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The auth cache, on a fake clock: no test here sleeps. */
class AuthCacheTest {
    private static final CacheConfig CONFIG = new CacheConfig(
            100, Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofMinutes(4), Duration.ofHours(1));

    private final FakeTicker ticker = new FakeTicker();
    private final List<String> events = new ArrayList<>();
    private final Metrics metrics = new Metrics() {
        @Override
        public void authCacheStaleServed() {
            events.add("stale");
        }

        @Override
        public void authCacheEviction(String cause) {
            events.add("evicted " + cause);
        }
    };
    private final AuthCache cache = new AuthCache(CONFIG, ticker::read, Runnable::run, metrics);

    /** A provider that knows alice/right and counts its calls; each answer can be held back or made to fail. */
    private final class Provider implements Function<AuthRequest, CompletionStage<Decision>> {
        final AtomicInteger calls = new AtomicInteger();
        final List<CompletableFuture<Decision>> held = new ArrayList<>();
        boolean hold;
        boolean down;
        boolean temporary;
        String route = "pool-a";

        @Override
        public CompletionStage<Decision> apply(AuthRequest request) {
            calls.incrementAndGet();
            CompletableFuture<Decision> f = new CompletableFuture<>();
            if (hold) {
                held.add(f);
                return f;
            }
            if (down) {
                return CompletableFuture.failedFuture(new IOException("connection refused"));
            }
            if (temporary) {
                return CompletableFuture.completedFuture(
                        new Decision(new AuthResult.Rejected("try later", true, Duration.ZERO), "web"));
            }
            return CompletableFuture.completedFuture(answer(request));
        }

        Decision answer(AuthRequest request) {
            boolean ok = request.credentials().user().equals("alice")
                    && request.credentials().secret().equals("right");
            return new Decision(
                    ok
                            ? new AuthResult.Accepted(
                                    "alice", Optional.of(new AuthResult.RouteHint(route, null, 0)), Optional.empty())
                            : new AuthResult.Rejected("wrong", false, Duration.ZERO),
                    "web");
        }
    }

    private final Provider provider = new Provider();

    private Decision get(AuthRequest request) throws Exception {
        return cache.get("chain/imap", request, provider).toCompletableFuture().get();
    }

    private static String pool(Decision d) {
        return ((AuthResult.Accepted) d.result()).route().orElseThrow().pool();
    }

    @Test
    void aWarmCacheAnswersWithoutTheProvider() throws Exception {
        assertThat(get(login("alice", "right")).cached()).isFalse();
        for (int i = 0; i < 50; i++) {
            Decision d = get(login("alice", "right"));
            assertThat(d.positive()).isTrue();
            assertThat(d.cached()).isTrue();
        }

        assertThat(provider.calls).hasValue(1);
        assertThat(cache.stats().hits()).isEqualTo(50);
        assertThat(cache.stats().misses()).isEqualTo(1);
    }

    @Test
    void aWrongPasswordNeverLocksOutTheRightOne() throws Exception {
        assertThat(get(login("alice", "wrong")).negative()).isTrue();
        assertThat(get(login("alice", "wrong")).cached())
                .as("the same wrong password, from the cache")
                .isTrue();

        Decision right = get(login("alice", "right"));

        assertThat(right.positive()).isTrue();
        assertThat(right.cached()).isFalse();
        assertThat(provider.calls).hasValue(2);
    }

    @Test
    void failuresLiveForTheNegativeTtlAndSuccessesForTheTtl() throws Exception {
        get(login("alice", "wrong"));
        get(login("alice", "right"));

        ticker.advance(Duration.ofSeconds(29));
        get(login("alice", "wrong"));
        assertThat(provider.calls).hasValue(2);
        ticker.advance(Duration.ofSeconds(2));
        get(login("alice", "wrong"));
        assertThat(provider.calls).as("the failure expired after 30s").hasValue(3);

        get(login("alice", "right"));
        assertThat(provider.calls).as("the success is still fresh").hasValue(3);
        ticker.advance(Duration.ofMinutes(5));
        get(login("alice", "right"));
        assertThat(provider.calls).as("the success expired after 5m").hasValue(4);
    }

    @Test
    void concurrentIdenticalLoginsMakeOneProviderCall() throws Exception {
        provider.hold = true;
        List<CompletableFuture<Decision>> logins = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            logins.add(
                    cache.get("chain/imap", login("alice", "right"), provider).toCompletableFuture());
        }
        CompletableFuture<Decision> other =
                cache.get("chain/imap", login("alice", "other"), provider).toCompletableFuture();

        assertThat(provider.calls)
                .as("one call for the ten identical logins, one for the other")
                .hasValue(2);
        assertThat(logins).noneMatch(CompletableFuture::isDone);
        provider.held.get(0).complete(provider.answer(login("alice", "right")));
        provider.held.get(1).complete(provider.answer(login("alice", "other")));

        assertThat(logins).allMatch(f -> f.join().positive());
        assertThat(other.get().negative()).isTrue();
        assertThat(get(login("alice", "right")).cached()).isTrue();
        assertThat(provider.calls).hasValue(2);
    }

    @Test
    void anActiveUserIsRefreshedAheadOfExpiryOffTheLoginPath() throws Exception {
        get(login("alice", "right"));
        ticker.advance(Duration.ofMinutes(4));
        provider.hold = true;
        provider.route = "pool-b";

        CompletableFuture<Decision> login =
                cache.get("chain/imap", login("alice", "right"), provider).toCompletableFuture();

        assertThat(login)
                .as("answered from the cache at once, while the refresh runs")
                .isDone();
        assertThat(pool(login.get())).isEqualTo("pool-a");
        assertThat(provider.calls).hasValue(2);
        cache.get("chain/imap", login("alice", "right"), provider);
        assertThat(provider.calls).as("one refresh at a time").hasValue(2);

        provider.held.get(0).complete(provider.answer(login("alice", "right")));
        provider.hold = false;
        ticker.advance(Duration.ofMinutes(2));
        Decision after = get(login("alice", "right"));
        assertThat(after.cached()).as("the refresh reset the entry's age").isTrue();
        assertThat(pool(after)).isEqualTo("pool-b");
        assertThat(cache.stats().refreshes()).isEqualTo(1);
    }

    @Test
    void whenTheProviderIsDownAnAcceptedAnswerIsHonouredWithinTheGracePeriod() throws Exception {
        get(login("alice", "right"));
        ticker.advance(Duration.ofMinutes(30));
        provider.down = true;

        Decision stale = get(login("alice", "right"));

        assertThat(stale.positive()).isTrue();
        assertThat(stale.cached()).isTrue();
        assertThat(events).containsExactly("stale");
        assertThat(cache.stats().staleServed()).isEqualTo(1);

        provider.down = false;
        provider.temporary = true;
        assertThat(get(login("alice", "right")).positive())
                .as("a 'try later' answer counts as down")
                .isTrue();

        provider.temporary = false;
        provider.down = true;
        ticker.advance(Duration.ofMinutes(31));
        assertThatThrownBy(() -> get(login("alice", "right")))
                .as("past stale-if-error the error stands")
                .isInstanceOf(ExecutionException.class)
                .hasRootCauseInstanceOf(IOException.class);
    }

    @Test
    void anAnswerThatHoldsLessThanTheTtlIsNeitherServedNorGracedPastIt() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        AtomicBoolean down = new AtomicBoolean();
        Function<AuthRequest, CompletionStage<Decision>> tokens = request -> {
            calls.incrementAndGet();
            return down.get()
                    ? CompletableFuture.failedFuture(new IOException("JWKS down"))
                    : CompletableFuture.completedFuture(new Decision(
                            new AuthResult.Accepted(
                                    "alice", Optional.empty(), Optional.empty(), Optional.of(Duration.ofSeconds(90))),
                            "jwt"));
        };
        cache.get("chain/imap", login("alice", "token"), tokens)
                .toCompletableFuture()
                .get();
        ticker.advance(Duration.ofSeconds(60));
        cache.get("chain/imap", login("alice", "token"), tokens)
                .toCompletableFuture()
                .get();
        assertThat(calls).as("fresh within its 90 s").hasValue(1);

        ticker.advance(Duration.ofSeconds(31));
        down.set(true);
        assertThatThrownBy(() -> cache.get("chain/imap", login("alice", "token"), tokens)
                        .toCompletableFuture()
                        .get())
                .as("an expired token is not honoured stale while its provider is down")
                .isInstanceOf(ExecutionException.class);
        assertThat(calls).hasValue(2);
    }

    @Test
    void aFailureIsNeverServedStale() throws Exception {
        get(login("alice", "wrong"));
        ticker.advance(Duration.ofSeconds(31));
        provider.down = true;

        assertThatThrownBy(() -> get(login("alice", "wrong"))).hasRootCauseInstanceOf(IOException.class);
        assertThat(events).doesNotContain("stale");
    }

    @Test
    void temporaryAnswersAreNotCached() throws Exception {
        provider.temporary = true;
        get(login("alice", "right"));
        get(login("alice", "right"));

        assertThat(provider.calls).hasValue(2);
    }

    @Test
    void invalidatesOneUserOrEverything() throws Exception {
        get(login("alice", "right"));
        get(login("alice", "wrong"));
        get(login("bob", "x"));

        assertThat(cache.invalidate("ALICE")).isEqualTo(2);
        get(login("alice", "right"));
        get(login("bob", "x"));
        assertThat(provider.calls).as("alice asked again, bob not").hasValue(4);

        cache.invalidateAll();
        get(login("bob", "x"));
        assertThat(provider.calls).hasValue(5);
    }

    @Test
    void theSizeIsBoundedAndEvictionsCounted() throws Exception {
        AuthCache small = new AuthCache(
                new CacheConfig(2, CONFIG.ttl(), CONFIG.negativeTtl(), CONFIG.refreshAfter(), CONFIG.staleIfError()),
                ticker::read,
                Runnable::run,
                metrics);
        for (int i = 0; i < 5; i++) {
            small.get("chain/imap", login("user" + i, "pw"), provider)
                    .toCompletableFuture()
                    .get();
        }
        small.cleanUp();

        assertThat(small.stats().size()).isLessThanOrEqualTo(2);
        assertThat(small.stats().evictions()).isGreaterThanOrEqualTo(3);
        assertThat(events).contains("evicted size");
    }

    @Test
    void theKeyHoldsAKeyedHashNotTheSecret() {
        AuthCache.Key key =
                cache.key("chain/imap", login("alice", "s3cret-pass").credentials());
        AuthCache other = new AuthCache(CONFIG, ticker::read, Runnable::run, metrics);

        assertThat(key.toString()).doesNotContain("s3cret-pass");
        assertThat(key.digest())
                .isNotEqualTo(
                        cache.key("chain/imap", login("alice", "s3cret-pasS").credentials())
                                .digest())
                .as("another process has another key")
                .isNotEqualTo(
                        other.key("chain/imap", login("alice", "s3cret-pass").credentials())
                                .digest());
    }

    @Test
    void answersAreScopedByChainAndProtocol() throws Exception {
        get(login("alice", "right"));
        cache.get("chain/pop3", login("alice", "right"), provider)
                .toCompletableFuture()
                .get();

        assertThat(provider.calls).hasValue(2);
    }
}
