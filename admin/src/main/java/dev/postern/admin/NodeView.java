package dev.postern.admin;

import java.time.Instant;
import java.util.Objects;

/**
 * A cluster node as its last heartbeat described it.
 *
 * @param node its id
 * @param started when its process started
 * @param heartbeat when it last wrote its heartbeat (its own clock)
 * @param sessions its live sessions then
 */
public record NodeView(String node, Instant started, Instant heartbeat, int sessions) {
    public NodeView {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(started, "started");
        Objects.requireNonNull(heartbeat, "heartbeat");
    }
}
