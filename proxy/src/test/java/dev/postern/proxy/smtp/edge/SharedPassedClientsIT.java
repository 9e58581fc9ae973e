package dev.postern.proxy.smtp.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ClusterConfig;
import dev.postern.proxy.cluster.ClusterClient;
import dev.postern.proxy.cluster.RedisPassedClients;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.testing.TestRedis;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.Await;
import dev.postern.testkit.SmtpTestClient;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two edge nodes (relay listeners in this JVM, each with its own Redis connection) on one real redis-server: a
 * client that passed the tests on one is not tested again on the other; with Redis gone each remembers alone.
 */
class SharedPassedClientsIT {
    private static final Duration SOON = Duration.ofSeconds(5);
    private static final long WAIT_MILLIS = 1000;

    @TempDir
    Path dir;

    TestRedis redis;
    FakeRelayBackend backend;
    final List<RelayTestServer> servers = new ArrayList<>();
    final List<ClusterClient> clients = new ArrayList<>();
    final List<Transport> transports = new ArrayList<>();
    final EdgeZombieTest.Lists lists = new EdgeZombieTest.Lists();

    @BeforeEach
    void start() throws Exception {
        redis = TestRedis.start();
        backend = new FakeRelayBackend();
    }

    @AfterEach
    void stop() throws Exception {
        clients.forEach(ClusterClient::close);
        transports.forEach(Transport::close);
        servers.forEach(RelayTestServer::close);
        backend.close();
        redis.close();
    }

    /** An edge node named {@code id}: a pregreet listener with DNS lists, remembering passes in Redis too. */
    private RelayTestServer node(String id) throws Exception {
        String yaml =
                """
                listeners:
                  - {name: mx, protocol: smtp, bind: "127.0.0.1:0", pool: fake,
                     smtp: {role: relay, hostname: mx.test, local-domains: [example.test],
                            pregreet: {banner: "mx.test ESMTP wait", wait: %dms},
                            dnsbl: {sites: [zen.dnsbl.test*2], threshold: 2, timeout: 300ms}, passed-cache: 1h}}
                pools:
                  - {name: fake, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(WAIT_MILLIS, backend.port());
        Path nodeDir = Files.createDirectories(dir.resolve(id));
        ClusterConfig config = ClusterConfig.of(List.of(redis.address()))
                .withNodeId(id)
                .withTimings(Duration.ofMillis(500), Duration.ofMillis(500), Duration.ofMillis(200));
        // the Redis connection runs on an event loop of the test's own
        Transport transport = Transport.create(1, true);
        transports.add(transport);
        ClusterClient client = ClusterClient.start(config, id, transport, Metrics.NOOP);
        clients.add(client);
        RedisPassedClients redisPassed = RedisPassedClients.start(client);
        SharedPassedClients passed = new SharedPassedClients() {
            @Override
            public CompletionStage<Duration> remaining(String listener, InetAddress address) {
                return redisPassed.remaining(listener, address);
            }

            @Override
            public void add(String listener, InetAddress address, Duration ttl) {
                redisPassed.add(listener, address, ttl);
            }
        };
        RelayTestServer server = RelayTestServer.start(yaml, nodeDir, lists, SenderPolicy.NONE, passed);
        servers.add(server);
        server.awaitKeywords("fake");
        Await.until(id + " reaches redis", SOON, client::isUp);
        return server;
    }

    /** Connects from {@code source}, reads the greeting, quits; how long the greeting took, in ms. */
    private static long greeting(RelayTestServer node, String source, List<String> expected) throws Exception {
        long start = System.nanoTime();
        try (SmtpTestClient c = SmtpTestClient.connect(InetAddress.getByName(source), node.port("mx"))) {
            assertThat(c.reply()).containsExactlyElementsOf(expected);
            long took = Duration.ofNanos(System.nanoTime() - start).toMillis();
            c.command("QUIT");
            node.awaitNoSessions();
            return took;
        }
    }

    private static final List<String> BOTH_LINES = List.of("220-mx.test ESMTP wait", "220 mx.test ESMTP Postern");

    @Test
    void aClientThatPassedOnOneNodeIsNotTestedAgainOnTheOther() throws Exception {
        RelayTestServer a = node("a");
        RelayTestServer b = node("b");

        assertThat(greeting(a, "127.0.0.1", BOTH_LINES)).as("tested on a").isGreaterThanOrEqualTo(WAIT_MILLIS);
        Await.until("a's pass is in redis", SOON, () -> redis.cli("KEYS", "postern:passed:mx:*")
                .startsWith("postern:passed:mx:"));
        String key = redis.cli("KEYS", "postern:passed:mx:*");
        assertThat(key).doesNotContain("127.0.0.1");
        assertThat(Long.parseLong(redis.cli("PTTL", key)))
                .isBetween(
                        Duration.ofMinutes(59).toMillis(), Duration.ofHours(1).toMillis());

        assertThat(greeting(b, "127.0.0.1", BOTH_LINES))
                .as("b knows it from redis: the wait ends at once")
                .isLessThan(WAIT_MILLIS / 2);
        assertThat(greeting(b, "127.0.0.1", List.of("220 mx.test ESMTP Postern")))
                .as("and now from its own memory")
                .isLessThan(WAIT_MILLIS / 2);
        assertThat(greeting(b, "127.0.0.2", BOTH_LINES))
                .as("another client is tested")
                .isGreaterThanOrEqualTo(WAIT_MILLIS);
    }

    @Test
    void withRedisGoneEachNodeRemembersAloneAndGreetsWithoutWaitingOnIt() throws Exception {
        RelayTestServer a = node("a");
        RelayTestServer b = node("b");

        redis.kill();
        Await.until("the nodes see redis gone", SOON, () -> clients.stream().noneMatch(ClusterClient::isUp));

        greeting(a, "127.0.0.1", BOTH_LINES);
        assertThat(greeting(a, "127.0.0.1", List.of("220 mx.test ESMTP Postern")))
                .isLessThan(WAIT_MILLIS / 2);
        long onB = greeting(b, "127.0.0.1", BOTH_LINES);
        assertThat(onB).as("tested on b: a could not tell it").isGreaterThanOrEqualTo(WAIT_MILLIS);
        assertThat(onB).as("and no longer than the test").isLessThan(WAIT_MILLIS + 400);
    }
}
