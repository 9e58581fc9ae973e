package dev.postern.proxy.routing;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * nginx's smooth weighted round robin: each pick adds every backend's weight to its running score, takes the highest,
 * and subtracts the total from the winner. Weights 5:1:1 give {@code a a b a c a a}, not {@code a a a a a b c}. The
 * rest of the order (for failover) is by running score.
 */
final class SmoothWeightedRoundRobin implements Balancer {
    private final Map<String, Long> current = new HashMap<>();

    @Override
    public synchronized List<BackendRuntime> order(List<BackendRuntime> available, String key) {
        return pick(available, true);
    }

    @Override
    public synchronized List<BackendRuntime> peek(List<BackendRuntime> available, String key) {
        return pick(available, false);
    }

    private List<BackendRuntime> pick(List<BackendRuntime> available, boolean advance) {
        if (available.size() <= 1) {
            return List.copyOf(available);
        }
        Map<String, Long> scores = new HashMap<>();
        long total = 0;
        for (BackendRuntime b : available) {
            int w = b.config().weight();
            total += w;
            scores.put(b.id(), current.getOrDefault(b.id(), 0L) + w);
        }
        List<BackendRuntime> ordered = new ArrayList<>(available);
        // highest score first; ties by pool order (stable sort)
        ordered.sort(Comparator.comparingLong((BackendRuntime b) -> scores.get(b.id()))
                .reversed());
        if (advance) {
            BackendRuntime winner = ordered.get(0);
            scores.put(winner.id(), scores.get(winner.id()) - total);
            current.clear(); // forget backends that left the pool
            current.putAll(scores);
        }
        return ordered;
    }
}
