package dev.postern.proxy.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.config.ClusterConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.testing.TestRedis;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.Await;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Cluster-wide commands and the nodes' heartbeats on a real redis-server, the nodes being clients in this JVM. */
class CommandChannelIT {
    private static final Duration SOON = Duration.ofSeconds(5);
    private static final Duration DEADLINE = Duration.ofMillis(400);

    static Transport transport;
    TestRedis redis;
    final List<Node> nodes = new ArrayList<>();

    /** One node: its client, heartbeat and (unless it only beats) its end of the channel, with what it ran. */
    static final class Node implements AutoCloseable {
        final ClusterClient client;
        final Membership membership;
        final CommandChannel channel;
        final List<String> ran = new CopyOnWriteArrayList<>();

        Node(ClusterClient client, boolean answers) {
            this.client = client;
            this.membership = Membership.start(client, () -> 7);
            this.channel = answers ? CommandChannel.create(client, membership) : null;
            if (channel != null) {
                channel.handle("echo", (origin, args) -> {
                    ran.add(origin + " " + args.path("x").asText());
                    return Membership.JSON
                            .createObjectNode()
                            .put("x", args.path("x").asText());
                });
                channel.open();
            }
        }

        @Override
        public void close() {
            if (channel != null) {
                channel.close();
            }
            membership.close();
            client.close();
        }
    }

    @BeforeAll
    static void startTransport() {
        transport = Transport.create(1, true);
    }

    @AfterAll
    static void stopTransport() {
        transport.close();
    }

    @BeforeEach
    void startRedis() {
        redis = TestRedis.start();
    }

    @AfterEach
    void stop() {
        nodes.forEach(Node::close);
        redis.close();
    }

    private Node node(String id) throws Exception {
        return node(id, true);
    }

    private Node node(String id, boolean answers) throws Exception {
        ClusterConfig config = ClusterNode.config(redis.address(), id);
        ClusterClient client = ClusterClient.start(config, id, transport, Metrics.NOOP);
        assertThat(client.firstRound().get(5, TimeUnit.SECONDS)).isTrue();
        Node n = new Node(client, answers);
        nodes.add(n);
        return n;
    }

    private static List<String> alive(Node n) {
        try {
            return n.membership.alive().stream().map(Membership.Member::node).toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private void awaitMembers(Node n, String... ids) {
        Await.until("nodes " + List.of(ids), SOON, () -> alive(n).equals(List.of(ids)));
    }

    private static ObjectNode x(String value) {
        return Membership.JSON.createObjectNode().put("x", value);
    }

    @Test
    void aRequestRunsOnEveryOtherNodeAndTheirAnswersComeBack() throws Exception {
        Node a = node("a");
        Node b = node("b");
        Node c = node("c");
        awaitMembers(a, "a", "b", "c");

        CommandChannel.Outcome o = a.channel.request("echo", x("hello"), Optional.empty(), DEADLINE);

        assertThat(o.sent()).isTrue();
        assertThat(o.answers()).containsOnlyKeys("b", "c");
        assertThat(o.answers().get("b").path("x").asText()).isEqualTo("hello");
        assertThat(o.missing()).isEmpty();
        assertThat(o.reached()).isEqualTo(2);
        assertThat(o.waited()).isLessThan(DEADLINE);
        assertThat(b.ran).containsExactly("a hello");
        assertThat(c.ran).containsExactly("a hello");
        assertThat(a.ran).as("the asker does its own part itself").isEmpty();
        System.out.printf(
                "cluster command: 2 nodes answered in %.1f ms%n", o.waited().toNanos() / 1e6);
    }

    @Test
    void aNodeAliveByItsHeartbeatThatDoesNotAnswerIsMissingAtTheDeadline() throws Exception {
        Node a = node("a");
        node("b");
        node("silent", false);
        awaitMembers(a, "a", "b", "silent");

        CommandChannel.Outcome o = a.channel.request("echo", x("1"), Optional.empty(), DEADLINE);

        assertThat(o.answers()).containsOnlyKeys("b");
        assertThat(o.missing()).containsExactly("silent");
        assertThat(o.waited()).isGreaterThanOrEqualTo(DEADLINE);
    }

    @Test
    void aRequestForOneNodeIsRunThereOnly() throws Exception {
        Node a = node("a");
        Node b = node("b");
        Node c = node("c");
        awaitMembers(a, "a", "b", "c");

        CommandChannel.Outcome o = a.channel.request("echo", x("only-c"), Optional.of("c"), DEADLINE);

        assertThat(o.answers()).containsOnlyKeys("c");
        assertThat(o.missing()).isEmpty();
        assertThat(o.waited()).isLessThan(DEADLINE);
        assertThat(c.ran).containsExactly("a only-c");
        assertThat(b.ran).isEmpty();
    }

    @Test
    void aLongAnswerTravelsThroughAKeyThatIsDeletedOnceRead() throws Exception {
        Node a = node("a");
        Node b = node("b");
        awaitMembers(a, "a", "b");
        String big = "s".repeat(CommandChannel.INLINE_LIMIT + 1);
        b.channel.handle(
                "big", (origin, args) -> Membership.JSON.createObjectNode().put("x", big));

        CommandChannel.Outcome o = a.channel.request("big", x(""), Optional.empty(), DEADLINE);

        assertThat(o.answers().get("b").path("x").asText()).isEqualTo(big);
        Await.until("the answer's key is gone", SOON, () -> redis.cli("KEYS", "postern:replies:*")
                .isEmpty());
    }

    @Test
    void aCommandANodeDoesNotKnowIsAnsweredAtOnceAndCountsAsMissing() throws Exception {
        Node a = node("a");
        node("b");
        awaitMembers(a, "a", "b");

        CommandChannel.Outcome o = a.channel.request("from-a-newer-version", x(""), Optional.empty(), DEADLINE);

        assertThat(o.answers()).isEmpty();
        assertThat(o.missing()).containsExactly("b");
        assertThat(o.waited()).isLessThan(DEADLINE);
    }

    @Test
    void whileRedisIsDownARequestIsNotSentAndSaysWhyAtOnce() throws Exception {
        Node a = node("a");
        node("b");
        awaitMembers(a, "a", "b");
        redis.kill();
        Await.until("a sees redis down", SOON, () -> !a.client.isUp());

        long start = System.nanoTime();
        CommandChannel.Outcome o = a.channel.request("echo", x(""), Optional.empty(), DEADLINE);

        assertThat(o.sent()).isFalse();
        assertThat(o.why().orElseThrow()).contains("cannot be reached");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(DEADLINE);

        redis.restart();
        Await.until("a and b answer each other again", SOON, () -> a.channel
                .request("echo", x("back"), Optional.empty(), DEADLINE)
                .answers()
                .containsKey("b"));
    }

    @Test
    void theHeartbeatsListTheNodesAndANodeThatStopsLeavesAtOnce() throws Exception {
        Node a = node("a");
        Node b = node("b");
        awaitMembers(a, "a", "b");
        Membership.Member mb = a.membership.alive().get(1);
        assertThat(mb.sessions()).isEqualTo(7);
        assertThat(mb.instance()).isEqualTo(b.membership.instance());
        assertThat(redis.cli("PTTL", "postern:nodes:b")).satisfies(ttl -> assertThat(Long.parseLong(ttl))
                .isPositive()
                .isLessThanOrEqualTo(b.membership.ttl().toMillis()));

        nodes.remove(b);
        b.close();

        assertThat(alive(a)).containsExactly("a");
    }

    @Test
    void aNodeWhoseHeartbeatExpiredIsNoLongerListedAndLeavesTheSet() throws Exception {
        Node a = node("a");
        Node b = node("b");
        awaitMembers(a, "a", "b");

        // gone without a word: its key expires
        nodes.remove(b);
        b.channel.close();
        b.client.close();

        Await.until("b's heartbeat expired", Duration.ofSeconds(10), () -> alive(a).equals(List.of("a")));
        Await.until("b is out of the set", SOON, () -> !redis.cli("SMEMBERS", "postern:nodes")
                .contains("b"));
        JsonNode doc = Membership.JSON.readTree(redis.cli("GET", "postern:nodes:a"));
        assertThat(doc.path("node").asText()).isEqualTo("a");
    }
}
