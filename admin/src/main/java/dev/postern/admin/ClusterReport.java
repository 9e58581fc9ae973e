package dev.postern.admin;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a command asked of the whole cluster came to: this node's own answer, and those of the other nodes that
 * answered within the deadline.
 *
 * @param reach whether every node that should have answered did
 * @param answers each answering node's answer by node id, this node first
 * @param missing the nodes that were alive (by their heartbeat) but did not answer within the deadline, sorted
 * @param reached how many other nodes the request reached (their subscriptions, as Redis counted them); 0 when it
 *     was not sent
 * @param waited how long this node waited for the others
 * @param detail why the request could not be sent ({@link Reach#UNREACHABLE}); empty otherwise
 * @param <T> the answer of one node
 */
public record ClusterReport<T>(
        Reach reach,
        Map<String, T> answers,
        List<String> missing,
        int reached,
        Duration waited,
        Optional<String> detail) {

    /** How far a cluster-wide request got. */
    public enum Reach {
        /** Every node that should have answered did. */
        COMPLETE("complete"),
        /** Some nodes did not answer within the deadline ({@link #missing}). */
        PARTIAL("partial"),
        /** Redis could not be reached: only this node acted ({@link #detail} says why). */
        UNREACHABLE("unreachable");

        private final String word;

        Reach(String word) {
            this.word = word;
        }

        /** The API's word for it. */
        public String word() {
            return word;
        }
    }

    public ClusterReport {
        Objects.requireNonNull(reach, "reach");
        answers = Collections.unmodifiableMap(new LinkedHashMap<>(answers));
        missing = List.copyOf(missing);
        Objects.requireNonNull(waited, "waited");
        Objects.requireNonNull(detail, "detail");
    }

    /** Only this node's answer: the cluster could not be reached, for {@code why}. */
    public static <T> ClusterReport<T> unreachable(String node, T answer, String why) {
        return new ClusterReport<>(
                Reach.UNREACHABLE, Map.of(node, answer), List.of(), 0, Duration.ZERO, Optional.of(why));
    }
}
