package dev.postern.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The routing model as one versioned snapshot: pools with their backends, and routes. The {@code RouteStore} owns
 * it; every change makes a new table with a higher revision, and sessions keep the table they started with.
 *
 * @param revision grows with every change (1 for the first table)
 * @param pools the pools, in order
 * @param routes which users go to which pool
 */
public record RoutingTable(long revision, List<Pool> pools, Routes routes) {
    public RoutingTable {
        pools = List.copyOf(pools);
        Objects.requireNonNull(routes, "routes");
    }

    public Optional<Pool> pool(String name) {
        return pools.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** The same pools and routes under another revision. */
    public RoutingTable withRevision(long newRevision) {
        return new RoutingTable(newRevision, pools, routes);
    }
}
