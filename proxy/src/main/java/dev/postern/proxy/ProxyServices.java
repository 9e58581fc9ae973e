package dev.postern.proxy;

import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.routing.BackendConnector;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.transport.Transport;
import java.util.Map;
import java.util.Optional;

/**
 * What the front ends of every listener share: built once at start, read-only afterwards.
 *
 * @param transport event loops and bootstraps
 * @param tls server certificates and client TLS contexts
 * @param connector backend connections
 * @param pools pools by name
 * @param sessions live sessions
 * @param capabilities what the backends of each pool support
 * @param metrics the recorder
 */
public record ProxyServices(
        Transport transport,
        TlsManager tls,
        BackendConnector connector,
        Map<String, PoolRuntime> pools,
        SessionRegistry sessions,
        BackendCapabilities capabilities,
        Metrics metrics) {

    public Optional<PoolRuntime> pool(String name) {
        return Optional.ofNullable(pools.get(name));
    }
}
