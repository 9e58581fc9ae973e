package dev.postern.proxy.cluster;

import dev.postern.config.Backend;
import dev.postern.config.ClusterConfig;
import dev.postern.config.HostPort;
import dev.postern.config.LocalRouteStore;
import dev.postern.config.Pool;
import dev.postern.config.Routes;
import dev.postern.config.RoutingTable;
import dev.postern.config.TlsMode;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.transport.Transport;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** One node of a test cluster: its Redis client and shared store, with what it saw and counted. */
final class ClusterNode implements AutoCloseable {
    /** Short timings, so that outages and checks play out in a test's time. */
    static final Duration CONNECT = Duration.ofMillis(500);

    static final Duration COMMAND = Duration.ofMillis(500);
    static final Duration CHECK = Duration.ofMillis(200);

    final ClusterClient client;
    final RedisRouteStore store;
    final Counted metrics;
    /** Every table the store's subscribers were given, and when (System.nanoTime()), by revision. */
    final Map<Long, Long> seenAt = new ConcurrentHashMap<>();

    final List<RoutingTable> seen = new CopyOnWriteArrayList<>();

    private ClusterNode(ClusterClient client, RedisRouteStore store, Counted metrics) {
        this.client = client;
        this.store = store;
        this.metrics = metrics;
        store.subscribe(t -> {
            seenAt.putIfAbsent(t.revision(), System.nanoTime());
            seen.add(t);
        });
    }

    /** A cluster on {@code redis} with the test timings. */
    static ClusterConfig config(HostPort redis, String nodeId) {
        return ClusterConfig.of(List.of(redis)).withNodeId(nodeId).withTimings(CONNECT, COMMAND, CHECK);
    }

    /** Starts a node from {@code local} (its last table); returns before it connects. */
    static ClusterNode start(ClusterConfig config, LocalRouteStore local, Transport transport) {
        Counted metrics = new Counted();
        ClusterClient client = ClusterClient.start(config, config.nodeId().orElse("test"), transport, metrics);
        return new ClusterNode(client, RedisRouteStore.start(client, local, metrics), metrics);
    }

    /** Starts a node and waits for its first read of the shared table. */
    static ClusterNode started(ClusterConfig config, LocalRouteStore local, Transport transport) {
        ClusterNode node = start(config, local, transport);
        if (!node.store.awaitFirstSync(Duration.ofSeconds(20))) {
            node.close();
            throw new AssertionError("node " + config.nodeId() + " did not reach redis " + config.addresses());
        }
        return node;
    }

    RoutingTable current() {
        return store.current();
    }

    /** A table with one pool, {@code main}, and the given users routed to it. */
    static RoutingTable table(String backendHost, String... users) {
        Map<String, String> routes = new LinkedHashMap<>();
        for (String u : users) {
            routes.put(u, "main");
        }
        Backend b = new Backend(
                "b1",
                backendHost,
                143,
                Map.of(),
                1,
                Backend.State.ACTIVE,
                0,
                TlsMode.NONE,
                true,
                Backend.Identity.NONE,
                Optional.empty());
        return new RoutingTable(
                1,
                List.of(new Pool("main", Pool.Balancer.ROUND_ROBIN, List.of(b))),
                new Routes(routes, Map.of(), Optional.of("main")));
    }

    /** {@code table} with {@code user} routed to {@code main} too. */
    static RoutingTable withUser(RoutingTable table, String user) {
        Map<String, String> users = new LinkedHashMap<>(table.routes().users());
        users.put(user, "main");
        return new RoutingTable(
                table.revision(),
                table.pools(),
                new Routes(users, table.routes().domains(), table.routes().defaultPool()));
    }

    @Override
    public void close() {
        store.close();
        client.close();
    }

    /** The counts the tests look at. */
    static final class Counted implements Metrics {
        final Map<String, AtomicInteger> resyncs = new ConcurrentHashMap<>();
        final AtomicInteger reconnects = new AtomicInteger();
        final AtomicInteger revisionChecks = new AtomicInteger();
        final Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();

        @Override
        public void routeStoreResync(String trigger) {
            resyncs.computeIfAbsent(trigger, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void clusterReconnect() {
            reconnects.incrementAndGet();
        }

        @Override
        public void clusterCommand(String command, String outcome, long nanos) {
            outcomes.computeIfAbsent(command + " " + outcome, k -> new AtomicInteger())
                    .incrementAndGet();
            if (command.equals("routes-revision") && outcome.equals("ok")) {
                revisionChecks.incrementAndGet();
            }
        }

        int resyncs(String trigger) {
            AtomicInteger n = resyncs.get(trigger);
            return n == null ? 0 : n.get();
        }
    }
}
