package dev.postern.proxy.routing;

import dev.postern.config.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** A pool as the data plane sees it: its backends' live state and the balancer's position. */
public final class PoolRuntime {
    private final Pool config;
    private final List<BackendRuntime> backends;
    private final AtomicLong next = new AtomicLong();

    public PoolRuntime(Pool config) {
        this.config = config;
        List<BackendRuntime> list = new ArrayList<>();
        for (var b : config.backends()) {
            list.add(new BackendRuntime(config.name(), b));
        }
        this.backends = List.copyOf(list);
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

    /**
     * The backends to try for a new session, best first: the available ones in round-robin order (each call starts
     * one further along), so when the first fails to connect the next one is tried.
     */
    public List<BackendRuntime> order() {
        List<BackendRuntime> available = new ArrayList<>(backends.size());
        for (BackendRuntime b : backends) {
            if (b.available()) {
                available.add(b);
            }
        }
        int n = available.size();
        if (n <= 1) {
            return available;
        }
        int start = (int) Math.floorMod(next.getAndIncrement(), (long) n);
        List<BackendRuntime> ordered = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ordered.add(available.get((start + i) % n));
        }
        return ordered;
    }
}
