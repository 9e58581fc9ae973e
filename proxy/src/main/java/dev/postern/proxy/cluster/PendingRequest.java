package dev.postern.proxy.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A request of the {@link CommandChannel} waiting for its answers: {@link #done} completes when every node it expects
 * has answered, and (asked of every node) as many as the request reached. Answers may come before the expectation is
 * known: PUBLISH's own reply can arrive after the first answers.
 */
final class PendingRequest {
    private final boolean targeted;
    private final Map<String, JsonNode> replies = new LinkedHashMap<>();
    final CompletableFuture<Void> done = new CompletableFuture<>();
    private Set<String> expected;
    private int reached;

    PendingRequest(boolean targeted) {
        this.targeted = targeted;
    }

    synchronized void add(String node, JsonNode reply) {
        replies.put(node, reply);
        check();
    }

    synchronized void expect(Set<String> nodes, int receivers) {
        expected = Set.copyOf(nodes);
        reached = receivers;
        check();
    }

    synchronized Map<String, JsonNode> snapshot() {
        return new LinkedHashMap<>(replies);
    }

    private void check() {
        if (expected == null) {
            return;
        }
        // one node asked: its answer is all there is to wait for (the others do not answer)
        boolean enough = targeted
                ? replies.keySet().containsAll(expected)
                : replies.keySet().containsAll(expected) && replies.size() >= reached;
        if (enough) {
            done.complete(null);
        }
    }
}
