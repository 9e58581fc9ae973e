package dev.postern.admin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * How the command line shows what a cluster-wide call came to: each node's part in one line, and a line of its own
 * when some nodes did not answer or Redis could not be reached (the command then exits with 3).
 */
final class ClusterOutput {
    private ClusterOutput() {}

    /** Whether the answer went to the cluster ({@code scope: cluster}). */
    static boolean clusterWide(JsonNode reply) {
        return "cluster".equals(reply.path("scope").asText());
    }

    /** {@code " (n1: 1, n2: 2)"} with each node's {@code field}; empty for an answer of this node only. */
    static String perNode(JsonNode reply, String field) {
        return perNode(reply, n -> n.path(field).asText());
    }

    static String perNode(JsonNode reply, Function<JsonNode, String> value) {
        if (!clusterWide(reply)) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        for (JsonNode n : reply.path("nodes")) {
            String v = value.apply(n);
            parts.add(v == null ? n.path("node").asText() : n.path("node").asText() + ": " + v);
        }
        return " (" + String.join(", ", parts) + ")";
    }

    /**
     * Prints the line for a cluster-wide answer that did not reach every node.
     *
     * @return true when it did not (the command is then incomplete)
     */
    static boolean printShortfall(PrintStream out, JsonNode reply) {
        if (!clusterWide(reply)) {
            return false;
        }
        switch (reply.path("cluster").asText()) {
            case "unreachable" -> {
                out.println(
                        "cluster unreachable: only node " + reply.path("node").asText() + " acted ("
                                + reply.path("cluster-detail").asText("redis cannot be reached") + ")");
                return true;
            }
            case "partial" -> {
                List<String> missing = new ArrayList<>();
                reply.path("missing").forEach(m -> missing.add(m.asText()));
                out.println("no answer within " + reply.path("waited-ms").asText() + " ms from: "
                        + String.join(", ", missing));
                return true;
            }
            default -> {
                return false;
            }
        }
    }
}
