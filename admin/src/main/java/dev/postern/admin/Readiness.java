package dev.postern.admin;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Whether this node can take traffic.
 *
 * @param listenersBound every listener is bound (false while starting or stopping)
 * @param healthyBackends for every pool in use (named by a listener or a route), how many of its backends are healthy
 *     and active
 */
public record Readiness(boolean listenersBound, Map<String, Integer> healthyBackends) {
    public Readiness {
        healthyBackends = Map.copyOf(healthyBackends);
    }

    /** Ready: listeners bound, and at least one healthy backend in every pool in use. */
    public boolean ready() {
        return listenersBound && healthyBackends.values().stream().allMatch(n -> n > 0);
    }

    /** The pools in use without a healthy backend, by name. */
    public List<String> poolsWithoutBackend() {
        return new TreeMap<>(healthyBackends)
                .entrySet().stream()
                        .filter(e -> e.getValue() == 0)
                        .map(Map.Entry::getKey)
                        .toList();
    }
}
