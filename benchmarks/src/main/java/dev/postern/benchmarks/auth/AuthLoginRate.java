package dev.postern.benchmarks.auth;

import com.github.benmanes.caffeine.cache.Ticker;
import com.sun.net.httpserver.HttpServer;
import dev.postern.config.AuthProviderConfig;
import dev.postern.config.CacheConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.auth.AuthCache;
import dev.postern.proxy.auth.AuthChain;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.auth.AuthResult;
import dev.postern.proxy.auth.Authenticator;
import dev.postern.proxy.auth.HttpAuthProvider;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.transport.Transport;
import io.netty.resolver.DefaultAddressResolverGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Login rate of Postern's authentication step with a cold and a warm cache, against an auth service speaking nginx's
 * auth_http protocol that takes 20 ms per call (a JDK HttpServer in this process, answering on a timer).
 *
 * <p>Cold: every login is a user the cache has not seen, so each one is an HTTP call. Warm: the same users again, so
 * the cache answers. {@code concurrency} logins are in flight at any time (as many clients logging in at once).
 *
 * <pre>
 * mvn -B -q -o -pl benchmarks -am compile dependency:build-classpath -Dmdep.outputFile=$PWD/target/bench.cp
 * java -cp benchmarks/target/classes:$(cat target/bench.cp) dev.postern.benchmarks.auth.AuthLoginRate \
 *     [seconds=10] [concurrency=64] [delay-ms=20] [max-connections=16]
 * </pre>
 */
public final class AuthLoginRate {
    // as a front end has them: resolved addresses of the connection
    private static final InetSocketAddress CLIENT = new InetSocketAddress("192.0.2.1", 40000);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 993);

    private AuthLoginRate() {}

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int delayMs = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int maxConnections = args.length > 3 ? Integer.parseInt(args[3]) : 16;

        ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
        AtomicLong serviceCalls = new AtomicLong();
        HttpServer service = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
        service.createContext("/auth", exchange -> {
            serviceCalls.incrementAndGet();
            timer.schedule(
                    () -> {
                        try (exchange) {
                            exchange.getResponseHeaders().set("Auth-Status", "OK");
                            exchange.getResponseHeaders().set("Auth-Server", "127.0.0.1");
                            exchange.getResponseHeaders().set("Auth-Port", "143");
                            exchange.sendResponseHeaders(200, -1);
                        } catch (java.io.IOException e) {
                            // the client went away
                        }
                    },
                    delayMs,
                    TimeUnit.MILLISECONDS);
        });
        service.setExecutor(Executors.newFixedThreadPool(4));
        service.start();

        Transport transport = Transport.create(2, true);
        HttpAuthProvider http = new HttpAuthProvider(
                new AuthProviderConfig.Http(
                        "directory",
                        URI.create("http://127.0.0.1:" + service.getAddress().getPort() + "/auth"),
                        Duration.ofSeconds(5),
                        Map.of(),
                        true,
                        maxConnections),
                transport.workerGroup(),
                transport.socketChannelType(),
                DefaultAddressResolverGroup.INSTANCE,
                null);
        AuthCache cache = new AuthCache(
                new CacheConfig(
                        10_000_000, Duration.ofHours(1), Duration.ofSeconds(30), Duration.ZERO, Duration.ofHours(1)),
                Ticker.systemTicker(),
                Runnable::run,
                Metrics.NOOP);
        Authenticator auth = new AuthChain(List.of(http), false, cache, Metrics.NOOP);

        System.out.printf(
                Locale.ROOT,
                "auth service: %d ms per call; %d logins in flight; %d keep-alive connections; %d s per phase%n",
                delayMs,
                concurrency,
                maxConnections,
                seconds);
        // warm-up of the JIT and the connection pool, both paths, with users that are never measured
        Result warmup = run(auth, "warmup-", 3, concurrency, Integer.MAX_VALUE);
        run(auth, "warmup-", 3, concurrency, warmup.logins());
        long callsBefore = serviceCalls.get();
        Result cold = run(auth, "user", seconds, concurrency, Integer.MAX_VALUE);
        long coldCalls = serviceCalls.get() - callsBefore;
        callsBefore = serviceCalls.get();
        // the same users again: every one of them is in the cache now
        Result warm = run(auth, "user", seconds, concurrency, cold.logins());
        long warmCalls = serviceCalls.get() - callsBefore;
        System.out.printf(
                Locale.ROOT,
                "cold cache: %,10.0f logins/s  (%d logins, %d auth service calls, %d failed)%n",
                cold.rate(),
                cold.logins(),
                coldCalls,
                cold.failed());
        System.out.printf(
                Locale.ROOT,
                "warm cache: %,10.0f logins/s  (%d logins, %d auth service calls, %d failed)%n",
                warm.rate(),
                warm.logins(),
                warmCalls,
                warm.failed());

        http.close();
        transport.close();
        service.stop(0);
        timer.shutdownNow();
        System.exit(0);
    }

    private record Result(long logins, long failed, double rate) {}

    /**
     * Runs logins of users {@code prefix0, prefix1, ...} (wrapping at {@code users}) for {@code seconds}, with
     * {@code concurrency} in flight.
     */
    private static Result run(Authenticator auth, String prefix, int seconds, int concurrency, long users)
            throws InterruptedException {
        AtomicLong next = new AtomicLong();
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicInteger inFlight = new AtomicInteger();
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        CountDownLatch finished = new CountDownLatch(concurrency);
        for (int i = 0; i < concurrency; i++) {
            loop(auth, prefix, users, next, done, failed, inFlight, end, finished);
        }
        finished.await();
        double elapsed = (System.nanoTime() - start) / 1e9;
        return new Result(done.get(), failed.get(), done.get() / elapsed);
    }

    /** One client: logs in, and when the answer comes, logs in again, until the time is up. */
    private static void loop(
            Authenticator auth,
            String prefix,
            long users,
            AtomicLong next,
            AtomicLong done,
            AtomicLong failed,
            AtomicInteger inFlight,
            long end,
            CountDownLatch finished) {
        // a cache hit completes at once: go on in this frame rather than recursing through the callback
        while (true) {
            if (System.nanoTime() >= end) {
                finished.countDown();
                return;
            }
            long n = next.getAndIncrement() % users;
            AuthRequest request = new AuthRequest(
                    Credentials.password(SaslMechanism.PLAIN, prefix + n + "@example.test", "password-" + n),
                    Protocol.IMAP,
                    "imaps",
                    CLIENT,
                    LOCAL,
                    "TLSv1.3",
                    "TLS_AES_128_GCM_SHA256",
                    1,
                    "bench",
                    null);
            CompletableFuture<AuthResult> answer = auth.authenticate(request).toCompletableFuture();
            if (answer.isDone()) {
                count(answer, done, failed);
                continue;
            }
            inFlight.incrementAndGet();
            answer.whenComplete((result, error) -> {
                inFlight.decrementAndGet();
                count(answer, done, failed);
                loop(auth, prefix, users, next, done, failed, inFlight, end, finished);
            });
            return;
        }
    }

    private static void count(CompletableFuture<AuthResult> answer, AtomicLong done, AtomicLong failed) {
        done.incrementAndGet();
        if (answer.isCompletedExceptionally() || !(answer.join() instanceof AuthResult.Accepted)) {
            failed.incrementAndGet();
        }
    }
}
