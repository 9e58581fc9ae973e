package dev.postern.proxy.control;

import dev.postern.admin.ClusterReport;
import dev.postern.admin.HoldControl;
import dev.postern.proxy.hold.Holds;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The admin API's {@link HoldControl} over this node's {@link Holds}; in a cluster every hold and release goes to
 * the other nodes too, through {@link ClusterCommands} (when Redis is down this node still holds, and says so).
 */
public final class NodeHolds implements HoldControl {
    static final String LOCAL = "local";

    private final Holds holds;
    private final ClusterCommands cluster;

    /** @param cluster the cluster's commands, or null for a node on its own */
    public NodeHolds(Holds holds, ClusterCommands cluster) {
        this.holds = holds;
        this.cluster = cluster;
        if (cluster != null) {
            cluster.shareHolds(holds);
        }
    }

    @Override
    public Outcome hold(String user, Duration timeout) {
        if (cluster == null) {
            holds.hold(user, timeout, LOCAL);
            return new Outcome(true, here(user), Optional.empty());
        }
        ClusterReport<Boolean> report = cluster.hold(user, timeout);
        return new Outcome(true, here(user), Optional.of(report));
    }

    @Override
    public Outcome release(String user, long minRevision) {
        if (cluster == null) {
            return new Outcome(holds.release(user, minRevision), Optional.empty(), Optional.empty());
        }
        ClusterReport<Boolean> report = cluster.release(user, minRevision);
        boolean found = report.answers().values().stream().anyMatch(Boolean::booleanValue);
        return new Outcome(found, Optional.empty(), Optional.of(report));
    }

    @Override
    public List<HoldView> holds() {
        return holds.holds().stream().map(NodeHolds::view).toList();
    }

    @Override
    public Duration holdTimeout() {
        return holds.config().holdTimeout();
    }

    private Optional<HoldView> here(String user) {
        String key = user.toLowerCase(Locale.ROOT);
        return holds.holds().stream()
                .filter(h -> h.user().equals(key))
                .findFirst()
                .map(NodeHolds::view);
    }

    private static HoldView view(Holds.Hold h) {
        return new HoldView(h.user(), h.since(), h.until(), h.origin(), h.waiting());
    }
}
