package dev.postern.proxy.auth;

import dev.postern.config.ThrottleConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Where the nodes of a cluster count failed logins together, so that guesses spread over the nodes meet the limits
 * of one (Redis; the {@code cluster} package implements it). The throttle makes one call per failed login and one
 * fire-and-forget call per success; it never asks before a login: the blocks the store reports, in its answers and
 * by broadcast, are kept by each node, so that a login is checked in memory.
 *
 * <p>Users and addresses reach it only as {@link ThrottleIds}, hashes of them.
 */
public interface SharedFailures {
    /** Whether failures can be counted there now; while not, each node counts its own. Cheap: read per failure. */
    boolean available();

    /**
     * The key every node of the cluster fingerprints wrong secrets with, so that a repeat counts once whichever node
     * sees it; null until it is known.
     */
    byte[] fingerprintKey();

    /**
     * Counts a failure of {@code ids} in the shared windows and blocks what reached its limit. Fails (after the
     * store's command timeout at most) when the store did not count it. May complete on any thread.
     *
     * @param fingerprint a short keyed hash of the secret: the same one again within the window counts once
     * @param limits the windows, limits and block time
     */
    CompletionStage<Tally> failed(ThrottleIds ids, String fingerprint, ThrottleConfig limits);

    /** A success: the pair's count is cleared and the address is good for the user for the window. Not waited for. */
    void succeeded(ThrottleIds ids, ThrottleConfig limits);

    /** Hands every block any node makes to {@code listener}, as this node hears of it (on any thread). */
    void onBlocked(Consumer<Block> listener);

    /**
     * A failure's counts in the shared windows, and the blocks in force on its address, user and pair.
     *
     * @param address the failures from the address (or IPv6 prefix) in the window
     * @param user the failures for the user
     * @param pair the failures for the user from the address: the delay follows this one
     */
    record Tally(int address, int user, int pair, List<Block> blocks) {
        public Tally {
            blocks = List.copyOf(blocks);
        }
    }

    /**
     * A block in force.
     *
     * @param scope {@link LoginThrottle#ADDRESS}, {@link LoginThrottle#USER} or {@link LoginThrottle#USER_ADDRESS}
     * @param id the hashed id of what is blocked (the {@link ThrottleIds} field of the scope)
     * @param remaining how long it lasts from now
     * @param goodPairs for a user: the pairs (hashed) where the user logged in within the window, which stay open to
     *     the user, and for how long
     */
    record Block(String scope, String id, Duration remaining, Map<String, Duration> goodPairs) {
        public Block {
            goodPairs = Map.copyOf(goodPairs);
        }
    }
}
