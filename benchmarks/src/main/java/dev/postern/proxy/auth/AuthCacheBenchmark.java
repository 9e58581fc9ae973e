package dev.postern.proxy.auth;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.CacheConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Auth cache lookups as logins arrive: {@code users} accounts whose login frequencies follow a Zipf distribution
 * (exponent 1: a few users log in all the time, most rarely, as on a real mail system), a cache of {@code size}
 * entries in front of a provider that answers at once (so a miss costs the cache's own bookkeeping, not a network
 * call). With the cache as large as the user base every lookup but the first per user hits; with a tenth of it, the
 * tail misses. Two threads, like Postern's two I/O loops here. One operation is one login's lookup, including the
 * HMAC of the credentials that forms the key.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(2)
@Fork(value = 2, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class AuthCacheBenchmark {
    @Param({"100000"})
    public int users;

    @Param({"100000", "10000"})
    public int size;

    private AuthCache cache;
    private AuthRequest[] requests;
    private double[] cumulative;
    private final Function<AuthRequest, CompletionStage<Decision>> provider =
            r -> CompletableFuture.completedFuture(new Decision(
                    new AuthResult.Accepted(r.credentials().user(), Optional.empty(), Optional.empty()), "static"));

    @Setup(Level.Trial)
    public void setUp() {
        CacheConfig config = new CacheConfig(
                size, Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ZERO, Duration.ofHours(1));
        cache = new AuthCache(config, Ticker.systemTicker(), Runnable::run, Metrics.NOOP);
        requests = new AuthRequest[users];
        InetSocketAddress client = new InetSocketAddress("192.0.2.10", 50123);
        InetSocketAddress local = new InetSocketAddress("198.51.100.1", 993);
        for (int i = 0; i < users; i++) {
            requests[i] = new AuthRequest(
                    Credentials.password(SaslMechanism.PLAIN, "user" + i + "@example.test", "password-" + i),
                    Protocol.IMAP,
                    "imaps",
                    client,
                    local,
                    "TLSv1.3",
                    "TLS_AES_128_GCM_SHA256",
                    1,
                    "s" + i,
                    null);
        }
        cumulative = new double[users];
        double sum = 0;
        for (int i = 0; i < users; i++) {
            sum += 1.0 / (i + 1);
            cumulative[i] = sum;
        }
        for (int i = 0; i < users; i++) {
            cumulative[i] /= sum;
        }
    }

    /** Each thread draws its own sequence of users. */
    @State(Scope.Thread)
    public static class Draw {
        final SplittableRandom random = new SplittableRandom(42);
    }

    @Benchmark
    public Object lookup(Draw draw) {
        int i = java.util.Arrays.binarySearch(cumulative, draw.random.nextDouble());
        AuthRequest r = requests[i < 0 ? Math.min(-i - 1, users - 1) : i];
        return cache.get("chain/imap", r, provider).toCompletableFuture().join();
    }
}
