package dev.postern.proxy.routing;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fewest live sessions per unit of weight first. Ties rotate, so an empty pool still spreads its first sessions.
 */
final class LeastSessions implements Balancer {
    private final AtomicLong rotation = new AtomicLong();

    @Override
    public List<BackendRuntime> order(List<BackendRuntime> available, String key) {
        return sorted(available, rotation.getAndIncrement());
    }

    @Override
    public List<BackendRuntime> peek(List<BackendRuntime> available, String key) {
        return sorted(available, rotation.get());
    }

    private static List<BackendRuntime> sorted(List<BackendRuntime> available, long turn) {
        int n = available.size();
        if (n <= 1) {
            return List.copyOf(available);
        }
        int offset = (int) Math.floorMod(turn, (long) n);
        List<BackendRuntime> rotated = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            rotated.add(available.get((offset + i) % n));
        }
        rotated.sort(Comparator.comparingDouble(
                b -> (double) b.sessions() / b.config().weight()));
        return rotated;
    }
}
