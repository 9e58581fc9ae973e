package dev.postern.proxy.smtp.edge;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What the DNS block and allow lists say about a client, scored like postscreen: each list that lists the client adds
 * its weight (allow lists have negative weights). The implementation queries the lists in parallel with a deadline
 * and caches results; the session compares the score with the listener's thresholds.
 */
@FunctionalInterface
public interface ClientReputation {
    /** No lists: every client scores 0. */
    ClientReputation NONE = client -> CompletableFuture.completedFuture(Verdict.CLEAN);

    /** Looks the client up. The stage may complete on any thread, never exceptionally. */
    CompletionStage<Verdict> check(InetAddress client);

    /**
     * The lists' answer.
     *
     * @param score the sum of the weights of the lists that list the client
     * @param listedBy the zones that list it (for the reply and the log)
     * @param unanswered the zones that did not answer in time (counted as not listing it)
     */
    record Verdict(int score, List<String> listedBy, List<String> unanswered) {
        public static final Verdict CLEAN = new Verdict(0, List.of(), List.of());

        public Verdict {
            listedBy = List.copyOf(listedBy);
            unanswered = List.copyOf(unanswered);
        }

        /** Every list answered (only then is a pass remembered). */
        public boolean complete() {
            return unanswered.isEmpty();
        }
    }
}
