package dev.postern.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Clock;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * The cluster in the API: {@code GET /cluster/nodes}, the {@code scope} parameter of the live resources, and the
 * members that say how far a cluster-wide command got ({@code cluster}, {@code nodes}, {@code missing}, ...).
 */
final class ClusterResources {
    static final String NODES = AdminServer.API + "/cluster/nodes";
    static final String LOCAL = "local";
    static final String CLUSTER = "cluster";

    private final ProxyControl proxy;
    private final Clock clock;

    ClusterResources(ProxyControl proxy, Clock clock) {
        this.proxy = proxy;
        this.clock = clock;
    }

    void register(Router router) {
        router.add(HttpMethod.GET, NODES, this::nodes);
    }

    /**
     * The cluster a request asks, by its {@code scope} ({@code local} or {@code cluster}; without one, the cluster
     * when {@code clusterByDefault} and this node is in one); empty for this node only.
     */
    Optional<ClusterControl> scope(ApiRequest request, boolean clusterByDefault) throws ApiException {
        Optional<String> scope = request.query("scope");
        Optional<ClusterControl> cluster = proxy.cluster();
        if (scope.isEmpty()) {
            return clusterByDefault ? cluster : Optional.empty();
        }
        switch (scope.get()) {
            case LOCAL -> {
                return Optional.empty();
            }
            case CLUSTER -> {
                if (cluster.isEmpty()) {
                    throw ApiException.invalidParameter(
                            "scope", "this node is not in a cluster (it has no cluster section): only scope=local");
                }
                return cluster;
            }
            default -> throw ApiException.invalidParameter(
                    "scope", "'" + scope.get() + "' is not one of " + LOCAL + ", " + CLUSTER);
        }
    }

    /** The members every live answer starts with: the node that answered (null without a cluster), and the scope. */
    void putOrigin(ObjectNode root, Optional<ClusterControl> asked) {
        Optional<String> node = proxy.cluster().map(ClusterControl::nodeId);
        if (node.isPresent()) {
            root.put("node", node.get());
        } else {
            root.putNull("node");
        }
        root.put("scope", asked.isPresent() ? CLUSTER : LOCAL);
    }

    /**
     * How far a cluster-wide command got, and each node's answer (written by {@code answer} into the node's object).
     */
    static <T> void putReport(ObjectNode root, ClusterReport<T> report, BiConsumer<ObjectNode, T> answer) {
        root.put("cluster", report.reach().word());
        report.detail().ifPresent(d -> root.put("cluster-detail", d));
        root.put("reached", report.reached());
        root.put("waited-ms", report.waited().toMillis());
        ArrayNode nodes = root.putArray("nodes");
        report.answers().forEach((node, value) -> {
            ObjectNode n = nodes.addObject();
            n.put("node", node);
            answer.accept(n, value);
        });
        ArrayNode missing = root.putArray("missing");
        report.missing().forEach(missing::add);
    }

    /** A problem document that carries the report's members too. */
    static <T> Problem withReport(Problem problem, ClusterReport<T> report, BiConsumer<ObjectNode, T> answer) {
        ObjectNode members = Json.MAPPER.createObjectNode();
        putReport(members, report, answer);
        Problem p = problem;
        for (Iterator<Map.Entry<String, JsonNode>> it = members.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            p = p.with(m.getKey(), m.getValue());
        }
        return p;
    }

    /** 503: the other nodes could not be asked, or did not answer, and this node alone cannot say. */
    static Problem unavailable(String detail) {
        return Problem.typed(
                HttpResponseStatus.SERVICE_UNAVAILABLE,
                "cluster-unavailable",
                "The other nodes of the cluster cannot be reached",
                detail);
    }

    private ApiResponse nodes(ApiRequest request) throws ApiException {
        Optional<ClusterControl> cluster = proxy.cluster();
        ObjectNode root = Json.MAPPER.createObjectNode();
        if (cluster.isEmpty()) {
            root.putNull("node");
            root.put("cluster", "off");
            root.putArray("nodes");
            return ApiResponse.ok(root);
        }
        List<NodeView> nodes;
        try {
            nodes = cluster.get().nodes();
        } catch (ClusterUnavailableException e) {
            throw new ApiException(unavailable(e.getMessage()));
        }
        String self = cluster.get().nodeId();
        root.put("node", self);
        root.put("cluster", "up");
        ArrayNode list = root.putArray("nodes");
        long now = clock.millis();
        for (NodeView v : nodes) {
            ObjectNode n = list.addObject();
            n.put("node", v.node());
            n.put("self", v.node().equals(self));
            n.put("started", v.started().toString());
            n.put("heartbeat", v.heartbeat().toString());
            n.put("heartbeat-age-ms", Math.max(0, now - v.heartbeat().toEpochMilli()));
            n.put("sessions", v.sessions());
        }
        return ApiResponse.ok(root);
    }
}
