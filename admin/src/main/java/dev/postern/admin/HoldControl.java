package dev.postern.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Holds of users' new logins (for a mailbox move), as the proxy keeps them: a held user's logins wait after
 * authentication until the hold is released or ends, each at most {@link #holdTimeout()}. In a cluster a hold is set
 * and released on every node; the answers then carry the cluster's report ({@code cluster: unreachable} when Redis
 * is down: the hold is then on this node only).
 *
 * <p>Called on admin worker threads; a cluster-wide call blocks for up to the cluster's command deadline.
 */
public interface HoldControl {
    /**
     * One user's hold on this node.
     *
     * @param user the held user (lowercase)
     * @param since when it was set
     * @param until when it ends on its own
     * @param origin the node (or {@code local}) that set it
     * @param waiting logins waiting on it now
     */
    record HoldView(String user, Instant since, Instant until, String origin, int waiting) {}

    /**
     * What a hold or release came to.
     *
     * @param found for a release: whether the user was held (here or on a node that answered); true for a hold
     * @param hold this node's hold after the call; empty after a release
     * @param cluster how far it reached in a cluster; empty for a node on its own
     */
    record Outcome(boolean found, Optional<HoldView> hold, Optional<ClusterReport<Boolean>> cluster) {}

    /** Holds {@code user}'s new logins for {@code timeout} (everywhere, in a cluster); a hold already set is reset. */
    Outcome hold(String user, Duration timeout);

    /**
     * Releases {@code user}'s hold (everywhere, in a cluster): the waiting logins go on once each node's routing
     * table has at least revision {@code minRevision} (0: at once).
     */
    Outcome release(String user, long minRevision);

    /** This node's holds, by user. */
    List<HoldView> holds();

    /** How long one login waits on a hold at most ({@code routing.hold-timeout}). */
    Duration holdTimeout();
}
