package dev.postern.config;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * A named group of interchangeable backends and the way one is chosen.
 *
 * @param name unique pool name
 * @param balancer how a backend is picked for a new session
 * @param backends the members, in configuration order
 */
public record Pool(String name, Balancer balancer, List<Backend> backends) {

    public Pool {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(balancer, "balancer");
        backends = List.copyOf(backends);
    }

    public Optional<Backend> backend(String id) {
        return backends.stream().filter(b -> b.id().equals(id)).findFirst();
    }

    /** How a pool picks a backend. */
    public enum Balancer {
        ROUND_ROBIN,
        LEAST_SESSIONS,
        CONSISTENT_HASH;

        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }
}
