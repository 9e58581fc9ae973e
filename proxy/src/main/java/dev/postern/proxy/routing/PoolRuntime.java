package dev.postern.proxy.routing;

import dev.postern.config.Pool;
import dev.postern.config.Protocol;
import java.util.ArrayList;
import java.util.List;

/**
 * A pool as the data plane sees it: one revision of its configuration, its backends' live state (shared across
 * revisions) and its balancer (kept across revisions while the kind stays the same, so round-robin positions survive
 * a routing change).
 */
public final class PoolRuntime {
    private final Pool config;
    private final List<BackendRuntime> backends;
    private final Balancer balancer;

    /** A pool with fresh backend state (tests, one-off pools). */
    public PoolRuntime(Pool config) {
        this(config, fresh(config), Balancer.of(config.balancer()));
    }

    PoolRuntime(Pool config, List<BackendRuntime> backends, Balancer balancer) {
        this.config = config;
        this.backends = List.copyOf(backends);
        this.balancer = balancer;
    }

    private static List<BackendRuntime> fresh(Pool config) {
        List<BackendRuntime> list = new ArrayList<>();
        for (var b : config.backends()) {
            list.add(new BackendRuntime(config.name(), b));
        }
        return list;
    }

    public String name() {
        return config.name();
    }

    public Pool config() {
        return config;
    }

    public List<BackendRuntime> backends() {
        return backends;
    }

    Balancer balancer() {
        return balancer;
    }

    /**
     * The pool narrowed to one of its backends (a user pinned there): its sessions go there or nowhere, as the
     * mailbox is there; null when the pool has no such backend.
     */
    public PoolRuntime pinned(String backendId) {
        for (BackendRuntime b : backends) {
            if (b.id().equals(backendId)) {
                return new PoolRuntime(config, List.of(b), Balancer.of(config.balancer()));
            }
        }
        return null;
    }

    /** Whether the pool's backends have a port for {@code protocol} (a pool for POP3 only cannot take IMAP). */
    public boolean serves(Protocol protocol) {
        return backends.stream().anyMatch(b -> b.config().portFor(protocol) > 0);
    }

    /** The backends that may take a new session now: healthy, active, under their limit. */
    public List<BackendRuntime> available() {
        List<BackendRuntime> available = new ArrayList<>(backends.size());
        for (BackendRuntime b : backends) {
            if (b.available()) {
                available.add(b);
            }
        }
        return available;
    }

    /**
     * The backends to try for a new session, best first, by the pool's balancer; when the first fails to connect the
     * next one is tried.
     *
     * @param key the affinity key: the user, or the client's address for a tcp session
     */
    public List<BackendRuntime> order(String key) {
        return balancer.order(available(), key);
    }

    /** What {@link #order} would answer, without moving the balancer (route explain). */
    public List<BackendRuntime> peek(String key) {
        return balancer.peek(available(), key);
    }
}
