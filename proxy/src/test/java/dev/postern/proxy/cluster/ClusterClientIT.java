package dev.postern.proxy.cluster;

import static dev.postern.proxy.cluster.ClusterNode.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ClusterConfig;
import dev.postern.config.HostPort;
import dev.postern.config.LocalRouteStore;
import dev.postern.config.Secret;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.TestRedis;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.Await;
import dev.postern.testkit.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The connection to a real redis-server: addresses in order, ACL, TLS, Sentinel, its threads, and outages. */
class ClusterClientIT {
    private static final Duration SOON = Duration.ofSeconds(5);
    static Transport transport;

    @TempDir
    Path dir;

    @BeforeAll
    static void startTransport() {
        transport = Transport.create(1, true);
    }

    @AfterAll
    static void stopTransport() {
        transport.close();
    }

    private static ClusterClient connected(ClusterConfig config) {
        ClusterClient client = ClusterClient.start(config, "test", transport, Metrics.NOOP);
        assertThat(client.firstRound().join())
                .as("connected to %s", client.description())
                .isTrue();
        return client;
    }

    private static String ping(ClusterClient client) throws Exception {
        return client.command("ping", c -> c.ping()).get(5, TimeUnit.SECONDS);
    }

    @Test
    void theAddressesAreTriedInOrder() throws Exception {
        HostPort closed = new HostPort("127.0.0.1", FreePorts.closed());
        try (ClusterClient alone =
                ClusterClient.start(ClusterNode.config(closed, "test"), "test", transport, Metrics.NOOP)) {
            assertThat(alone.firstRound().get(5, TimeUnit.SECONDS)).isFalse();
        }
        try (TestRedis redis = TestRedis.start();
                ClusterClient client = connected(ClusterConfig.of(List.of(closed, redis.address()))
                        .withTimings(ClusterNode.CONNECT, ClusterNode.COMMAND, ClusterNode.CHECK))) {
            assertThat(ping(client)).isEqualTo("PONG");
        }
    }

    @Test
    void theRedisConnectionsRunOnPosternsOwnEventLoops() throws Exception {
        try (TestRedis redis = TestRedis.start();
                ClusterClient client = connected(ClusterNode.config(redis.address(), "test"))) {
            // a callback attached after the reply came runs on the caller's thread: of many pings, some replies come
            // later; every one of those must be handled on Postern's own loops, never on a thread of Lettuce's
            String caller = Thread.currentThread().getName();
            Set<String> threads = new HashSet<>();
            for (int i = 0; i < 200 && threads.stream().noneMatch(n -> n.startsWith("postern-io")); i++) {
                threads.add(client.command("ping", c -> c.ping())
                        .thenApply(pong -> Thread.currentThread().getName())
                        .get(5, TimeUnit.SECONDS));
            }
            assertThat(threads).anyMatch(n -> n.startsWith("postern-io"));
            assertThat(threads).allMatch(n -> n.startsWith("postern-io") || n.equals(caller));
            assertThat(transport.workerGroup().next().inEventLoop()).isFalse();
        }
    }

    @Test
    void whileRedisIsDownCommandsFailAtOnceAndTheClientReconnectsByItself() throws Exception {
        ClusterNode.Counted metrics = new ClusterNode.Counted();
        try (TestRedis redis = TestRedis.start();
                ClusterClient client =
                        ClusterClient.start(ClusterNode.config(redis.address(), "test"), "test", transport, metrics)) {
            assertThat(client.firstRound().join()).isTrue();
            redis.kill();
            Await.until("the client notices", SOON, () -> !client.isUp());

            long start = System.nanoTime();
            CompletableFuture<String> refused = client.command("ping", c -> c.ping());
            assertThat(refused).isCompletedExceptionally();
            assertThat(System.nanoTime() - start).isLessThan(TimeUnit.MILLISECONDS.toNanos(100));
            assertThat(metrics.outcomes.get("ping unavailable").get()).isEqualTo(1);

            redis.restart();
            Await.until("the client reconnects", SOON, client::isUp);
            assertThat(ping(client)).isEqualTo("PONG");
            assertThat(metrics.reconnects.get()).isPositive();
        }
    }

    @Test
    void anAclUserLogsInWithItsPasswordAndAWrongPasswordStaysOut() throws Exception {
        List<String> acl = List.of("user default off", "user postern on >right-password ~postern:* &postern:* +@all");
        try (TestRedis redis = TestRedis.start(acl)) {
            ClusterConfig right = withLogin(ClusterNode.config(redis.address(), "a"), "right-password");
            try (ClusterNode node =
                    ClusterNode.started(right, LocalRouteStore.inMemory(table("10.0.0.1")), transport)) {
                assertThat(node.store.available()).isTrue();
                assertThat(node.metrics.resyncs("seeded")).isEqualTo(1);
            }
            ClusterConfig wrong = withLogin(ClusterNode.config(redis.address(), "b"), "wrong-password");
            try (ClusterClient client = ClusterClient.start(wrong, "b", transport, Metrics.NOOP)) {
                assertThat(client.firstRound().get(5, TimeUnit.SECONDS)).isFalse();
                assertThat(client.isUp()).isFalse();
            }
        }
    }

    private static ClusterConfig withLogin(ClusterConfig c, String password) {
        return new ClusterConfig(
                c.addresses(),
                c.sentinel(),
                Optional.of("postern"),
                Optional.of(Secret.of(password)),
                c.database(),
                c.tls(),
                c.connectTimeout(),
                c.commandTimeout(),
                c.keyPrefix(),
                c.nodeId(),
                c.checkInterval());
    }

    @Test
    void tlsWithTheServersCaIsAcceptedAndWithAnotherCaRefused() throws Exception {
        TestCertificates ca = TestCertificates.newAuthority();
        TestCertificates.Leaf leaf = ca.issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost");
        Path chain = leaf.writeChain(dir.resolve("redis.pem"));
        Path key = leaf.writeKey(dir.resolve("redis.key"), TestCertificates.KeyFormat.PKCS8, null);
        Path trusted = ca.writeCaCertificate(dir.resolve("ca.pem"));
        Path other = TestCertificates.newAuthority().writeCaCertificate(dir.resolve("other-ca.pem"));
        try (TestRedis redis = TestRedis.startWithTls(chain, key)) {
            ClusterConfig tls = withTls(ClusterNode.config(redis.tlsAddress(), "tls"), trusted);
            try (ClusterClient client = connected(tls)) {
                assertThat(ping(client)).isEqualTo("PONG");
                assertThat(client.description()).endsWith("(TLS)");
            }
            try (ClusterClient client = ClusterClient.start(withTls(tls, other), "tls", transport, Metrics.NOOP)) {
                assertThat(client.firstRound().get(5, TimeUnit.SECONDS)).isFalse();
            }
        }
    }

    private static ClusterConfig withTls(ClusterConfig c, Path ca) {
        return new ClusterConfig(
                c.addresses(),
                c.sentinel(),
                c.username(),
                c.password(),
                c.database(),
                new ClusterConfig.Tls(true, true, Optional.of(ca)),
                c.connectTimeout(),
                c.commandTimeout(),
                c.keyPrefix(),
                c.nodeId(),
                c.checkInterval());
    }

    @Test
    void aSentinelNamesThePrimaryToConnectTo() throws Exception {
        try (TestRedis primary = TestRedis.start()) {
            int sentinelPort = FreePorts.next();
            Path conf = dir.resolve("sentinel.conf");
            Files.writeString(
                    conf,
                    String.join(
                            "\n",
                            "port " + sentinelPort,
                            "bind 127.0.0.1",
                            "daemonize no",
                            "dir " + dir,
                            "logfile " + dir.resolve("sentinel.log"),
                            "sentinel monitor postern 127.0.0.1 " + primary.port() + " 1",
                            ""));
            Process sentinel = new ProcessBuilder("redis-server", conf.toString(), "--sentinel")
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("sentinel.out").toFile())
                    .start();
            try {
                ClusterConfig c = ClusterNode.config(primary.address(), "s");
                ClusterConfig viaSentinel = new ClusterConfig(
                        List.of(),
                        Optional.of(new ClusterConfig.Sentinel(
                                List.of(new HostPort("127.0.0.1", sentinelPort)), "postern", Optional.empty())),
                        Optional.empty(),
                        Optional.empty(),
                        0,
                        ClusterConfig.Tls.OFF,
                        c.connectTimeout(),
                        c.commandTimeout(),
                        c.keyPrefix(),
                        c.nodeId(),
                        c.checkInterval());
                ClusterClient client = Await.value("connected through the sentinel", SOON, () -> {
                    ClusterClient attempt = ClusterClient.start(viaSentinel, "s", transport, Metrics.NOOP);
                    if (attempt.firstRound().join()) {
                        return attempt;
                    }
                    // the sentinel was not listening yet
                    attempt.close();
                    return null;
                });
                try (client) {
                    assertThat(client.description()).startsWith("primary 'postern' of sentinels 127.0.0.1:");
                    client.command("set", cmd -> cmd.set("via-sentinel", "yes")).get(5, TimeUnit.SECONDS);
                    assertThat(primary.cli("GET", "via-sentinel")).isEqualTo("yes");
                }
            } finally {
                sentinel.destroyForcibly();
                sentinel.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void closingTheClientLeavesPosternsEventLoopsRunning() throws ExecutionException, InterruptedException {
        try (TestRedis redis = TestRedis.start()) {
            connected(ClusterNode.config(redis.address(), "test")).close();

            assertThat(transport.workerGroup().isShuttingDown()).isFalse();
            assertThat(transport.workerGroup().submit(() -> "still running").get())
                    .isEqualTo("still running");
        }
    }
}
