package dev.postern.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The whole static configuration, validated. Immutable: a reload builds a new one.
 *
 * @param listeners the listening sockets
 * @param tls server TLS settings
 * @param pools backend pools (seed of the routing model)
 * @param timeouts global timeouts (listeners carry their resolved copy)
 * @param limits global limits (listeners carry their resolved copy)
 * @param admin the admin API
 * @param auth authentication providers, their cache, and brute-force throttling
 * @param routes user and domain routes (seed of the routing model)
 * @param routeStore where the routing model is persisted; empty keeps it in memory, seeded from this file at start
 *     (with a {@code cluster}: this node's copy of the last table it saw)
 * @param dns the resolver of the SMTP edge's DNS checks
 * @param cluster the Redis a cluster's nodes share the routing model in ({@code routing.store: redis}); empty for a
 *     node on its own
 * @param source the file this came from, if any
 * @param holds how held logins wait ({@code routing.hold-timeout}, {@code routing.max-held-logins})
 * @param transport the I/O transport asked for ({@code transport}); read at start only
 */
public record PosternConfig(
        List<ListenerConfig> listeners,
        TlsConfig tls,
        List<Pool> pools,
        TimeoutsConfig timeouts,
        LimitsConfig limits,
        AdminConfig admin,
        AuthConfig auth,
        Routes routes,
        Optional<Path> routeStore,
        DnsConfig dns,
        Optional<ClusterConfig> cluster,
        Optional<Path> source,
        HoldsConfig holds,
        TransportKind transport) {

    public PosternConfig {
        Objects.requireNonNull(holds, "holds");
        Objects.requireNonNull(transport, "transport");
        listeners = List.copyOf(listeners);
        Objects.requireNonNull(tls, "tls");
        pools = List.copyOf(pools);
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(routes, "routes");
        Objects.requireNonNull(routeStore, "routeStore");
        Objects.requireNonNull(dns, "dns");
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(source, "source");
    }

    /** A configuration with the default transport. */
    public PosternConfig(
            List<ListenerConfig> listeners,
            TlsConfig tls,
            List<Pool> pools,
            TimeoutsConfig timeouts,
            LimitsConfig limits,
            AdminConfig admin,
            AuthConfig auth,
            Routes routes,
            Optional<Path> routeStore,
            DnsConfig dns,
            Optional<ClusterConfig> cluster,
            Optional<Path> source,
            HoldsConfig holds) {
        this(
                listeners,
                tls,
                pools,
                timeouts,
                limits,
                admin,
                auth,
                routes,
                routeStore,
                dns,
                cluster,
                source,
                holds,
                TransportKind.AUTO);
    }

    /** A configuration with the default holds. */
    public PosternConfig(
            List<ListenerConfig> listeners,
            TlsConfig tls,
            List<Pool> pools,
            TimeoutsConfig timeouts,
            LimitsConfig limits,
            AdminConfig admin,
            AuthConfig auth,
            Routes routes,
            Optional<Path> routeStore,
            DnsConfig dns,
            Optional<ClusterConfig> cluster,
            Optional<Path> source) {
        this(
                listeners,
                tls,
                pools,
                timeouts,
                limits,
                admin,
                auth,
                routes,
                routeStore,
                dns,
                cluster,
                source,
                HoldsConfig.DEFAULTS);
    }

    /** A configuration without an {@code auth} section: every login is decided by the backend. */
    public PosternConfig(
            List<ListenerConfig> listeners,
            TlsConfig tls,
            List<Pool> pools,
            TimeoutsConfig timeouts,
            LimitsConfig limits,
            AdminConfig admin,
            Routes routes,
            Optional<Path> routeStore,
            Optional<Path> source) {
        this(
                listeners,
                tls,
                pools,
                timeouts,
                limits,
                admin,
                AuthConfig.DEFAULTS,
                routes,
                routeStore,
                DnsConfig.DEFAULTS,
                Optional.empty(),
                source);
    }

    /** The same configuration with other pools. */
    public PosternConfig withPools(List<Pool> newPools) {
        return new PosternConfig(
                listeners,
                tls,
                newPools,
                timeouts,
                limits,
                admin,
                auth,
                routes,
                routeStore,
                dns,
                cluster,
                source,
                holds,
                transport);
    }

    /** The same configuration with another transport. */
    public PosternConfig withTransport(TransportKind kind) {
        return new PosternConfig(
                listeners,
                tls,
                pools,
                timeouts,
                limits,
                admin,
                auth,
                routes,
                routeStore,
                dns,
                cluster,
                source,
                holds,
                kind);
    }

    /** The routing model this configuration seeds (revision 0: the store gives it its revision). */
    public RoutingTable routingSeed() {
        return new RoutingTable(0, pools, routes);
    }

    public Optional<Pool> pool(String name) {
        return pools.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    public Optional<ListenerConfig> listener(String name) {
        return listeners.stream().filter(l -> l.name().equals(name)).findFirst();
    }
}
