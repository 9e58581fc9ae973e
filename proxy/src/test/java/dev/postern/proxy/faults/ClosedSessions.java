package dev.postern.proxy.faults;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.metrics.Metrics;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A metrics recorder that keeps each ended session's listener and close reason, for the fault tests to check. */
final class ClosedSessions implements Metrics {
    /** {@code listener:reason}, in the order the sessions ended. */
    final List<String> closed = new CopyOnWriteArrayList<>();

    final List<String> refused = new CopyOnWriteArrayList<>();

    @Override
    public void sessionClosed(
            ListenerConfig listener, String reason, long ageNanos, long bytesFromClient, long bytesToClient) {
        closed.add(listener.name() + ":" + reason);
    }

    @Override
    public void connectionRefused(ListenerConfig listener, String reason) {
        refused.add(listener.name() + ":" + reason);
    }

    boolean has(String listener, String reason) {
        return closed.contains(listener + ":" + reason);
    }
}
