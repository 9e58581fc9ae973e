package dev.postern.proxy.routing;

import dev.postern.config.Pool;
import java.util.List;

/**
 * Orders a pool's available backends for a new session, best first; the connector tries them in that order, so the
 * order is also the failover order. Implementations are thread-safe: every event loop picks through them.
 */
public interface Balancer {
    /**
     * The backends to try, best first.
     *
     * @param available the backends that may take a session now (healthy, active, under their limit), in pool order
     * @param key the affinity key: the user for a login, the client's address for a tcp session
     */
    List<BackendRuntime> order(List<BackendRuntime> available, String key);

    /** What {@link #order} would answer now, without moving any state (round-robin positions); for route explain. */
    List<BackendRuntime> peek(List<BackendRuntime> available, String key);

    /** The balancer a pool's configuration asks for. */
    static Balancer of(Pool.Balancer kind) {
        return switch (kind) {
            case ROUND_ROBIN -> new SmoothWeightedRoundRobin();
            case LEAST_SESSIONS -> new LeastSessions();
            case CONSISTENT_HASH -> new RendezvousHash();
        };
    }
}
