package dev.postern.proxy.services;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.routing.BackendConnector;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.routing.Routing;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.transport.ListenerInitializer;
import dev.postern.proxy.transport.Transport;
import io.netty.channel.Channel;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What the front ends of every listener share: built once at start. The routing inside changes with the route store;
 * everything else is fixed.
 *
 * @param transport event loops and bootstraps
 * @param tls server certificates and client TLS contexts
 * @param connector backend connections
 * @param routing the pools and routes in force
 * @param sessions live sessions
 * @param capabilities what the backends of each pool support
 * @param metrics the recorder
 */
public record ProxyServices(
        Transport transport,
        TlsManager tls,
        BackendConnector connector,
        Routing routing,
        SessionRegistry sessions,
        BackendCapabilities capabilities,
        Metrics metrics) {

    /** Services over fixed pools (tests and tools). */
    public ProxyServices(
            Transport transport,
            TlsManager tls,
            BackendConnector connector,
            Map<String, PoolRuntime> pools,
            SessionRegistry sessions,
            BackendCapabilities capabilities,
            Metrics metrics) {
        this(transport, tls, connector, Routing.fixed(pools), sessions, capabilities, metrics);
    }

    /** The same services with {@code tls} (a reload that loads certificates for a first TLS listener). */
    public ProxyServices withTls(TlsManager tls) {
        return new ProxyServices(transport, tls, connector, routing, sessions, capabilities, metrics);
    }

    /** The pools in force now, by name. */
    public Map<String, PoolRuntime> pools() {
        return routing.pools();
    }

    public Optional<PoolRuntime> pool(String name) {
        return Optional.ofNullable(routing.pools().get(name));
    }

    /** The initializer of {@code listener}'s client connections, ending in {@code frontend}'s handlers. */
    public ListenerInitializer listenerInitializer(ListenerConfig listener, Consumer<Channel> frontend) {
        return new ListenerInitializer(metrics, sessions, tls, listener, frontend);
    }
}
