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
 * @param healthCheck how its backends are checked
 */
public record Pool(String name, Balancer balancer, List<Backend> backends, HealthCheckConfig healthCheck) {

    /** The balancer when a pool names none: affinity, so one user's sessions meet on one backend. */
    public static final Balancer DEFAULT_BALANCER = Balancer.CONSISTENT_HASH;

    public Pool {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(balancer, "balancer");
        backends = List.copyOf(backends);
        Objects.requireNonNull(healthCheck, "healthCheck");
    }

    /** A pool with the default health checks. */
    public Pool(String name, Balancer balancer, List<Backend> backends) {
        this(name, balancer, backends, HealthCheckConfig.DEFAULTS);
    }

    /** The same pool with other health-check settings. */
    public Pool withHealthCheck(HealthCheckConfig settings) {
        return new Pool(name, balancer, backends, settings);
    }

    /** The same pool with other backends. */
    public Pool withBackends(List<Backend> newBackends) {
        return new Pool(name, balancer, newBackends, healthCheck);
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
