package dev.postern.proxy.login;

import dev.postern.config.Backend;
import dev.postern.config.ListenerConfig;
import dev.postern.config.Pool;
import dev.postern.config.TlsMode;
import dev.postern.proxy.auth.AuthResult;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.routing.Routing;
import dev.postern.proxy.services.ProxyServices;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Where a login goes: the pool the routing decides, or the one backend an auth answer named. */
final class LoginPools {
    /** The pool name of a backend that an auth answer named by host and port. */
    static final String ROUTED_POOL = "(auth-route)";

    private LoginPools() {}

    /**
     * The pool a login goes to: the backend an auth answer named by host and port (with the settings of the listener
     * pool's first backend), else what the routing decides (the auth answer's pool, a user or domain route, the
     * listener's pool, the default pool); null when there is none.
     */
    static PoolRuntime pool(ProxyServices services, ListenerConfig listener, String user, AuthResult.RouteHint route) {
        Optional<PoolRuntime> listenerPool = listener.pool().map(services.pools()::get);
        if (route != null && route.host() != null) {
            Backend template = listenerPool
                    .map(p -> p.config().backends().get(0))
                    .orElse(new Backend(
                            "template",
                            route.host(),
                            0,
                            Map.of(),
                            1,
                            Backend.State.ACTIVE,
                            0,
                            TlsMode.NONE,
                            true,
                            Backend.Identity.NONE,
                            Optional.empty()));
            int port = route.port() > 0 ? route.port() : template.portFor(listener.protocol());
            if (port <= 0) {
                return null;
            }
            String host = route.host();
            String id = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
            Backend routed = new Backend(
                    id,
                    host,
                    port,
                    Map.of(),
                    1,
                    Backend.State.ACTIVE,
                    0,
                    template.tls(),
                    template.tlsVerify(),
                    template.identity(),
                    template.master());
            // a pool of its own, in no configured pool: the routing issue makes routes richer
            return new PoolRuntime(new Pool(ROUTED_POOL, Pool.Balancer.ROUND_ROBIN, List.of(routed)));
        }
        return services.routing()
                .resolve(user, listener, route == null ? null : route.pool())
                .map(Routing.Decision::pool)
                .orElse(null);
    }
}
