package dev.postern.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.config.HoldsConfig;
import dev.postern.config.RoutingJson;
import dev.postern.config.Units;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code /api/v1/holds}: holding a user's new logins while a migration tool copies the mailbox (set, list, release),
 * the holds that {@link MoveResources} sets around a move.
 */
final class HoldResources {
    static final String HOLDS = AdminServer.API + "/holds";
    private static final List<String> HOLD_KEYS = List.of("user", "timeout");

    private final ProxyControl proxy;
    private final Clock clock;

    HoldResources(ProxyControl proxy, Clock clock) {
        this.proxy = proxy;
        this.clock = clock;
    }

    void register(Router router) {
        router.add(HttpMethod.GET, HOLDS, this::list);
        router.add(HttpMethod.POST, HOLDS, this::hold);
        router.add(HttpMethod.DELETE, HOLDS + "/{user}", this::release);
    }

    /** The proxy's holds; 404 when it has none (a tool's proxy control). */
    static HoldControl control(ProxyControl proxy) throws ApiException {
        return proxy.holds().orElseThrow(() -> ApiException.notFound("this proxy does not hold logins"));
    }

    /** A user name from a URL or document, lowercased, or a 400 naming where it came from. */
    static String user(String text, boolean fromUrl) throws ApiException {
        String user = text.trim().toLowerCase(Locale.ROOT);
        Optional<String> problem = RoutingJson.userKeyProblem(user);
        if (problem.isPresent()) {
            String message = "'" + text + "' " + problem.get();
            throw fromUrl ? ApiException.invalidParameter("user", message) : ApiException.invalidBody("user", message);
        }
        return user;
    }

    private ApiResponse list(ApiRequest request) throws ApiException {
        HoldControl holds = control(proxy);
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("hold-timeout", Units.format(holds.holdTimeout()));
        ArrayNode list = root.putArray("holds");
        long now = clock.millis();
        for (HoldControl.HoldView h : holds.holds()) {
            putHold(list.addObject(), h, now);
        }
        return ApiResponse.ok(root);
    }

    private ApiResponse hold(ApiRequest request) throws ApiException {
        HoldControl holds = control(proxy);
        JsonNode body = request.json();
        String user = user(Documents.requiredString(body, "user", HOLD_KEYS), false);
        Duration timeout = timeout(body.get("timeout"));
        HoldControl.Outcome outcome = holds.hold(user, timeout);
        ObjectNode root = Json.MAPPER.createObjectNode();
        outcome.hold().ifPresent(h -> putHold(root, h, clock.millis()));
        putCluster(root, outcome);
        return ApiResponse.json(HttpResponseStatus.CREATED, root);
    }

    private ApiResponse release(ApiRequest request) throws ApiException {
        HoldControl holds = control(proxy);
        String user = user(request.param("user"), true);
        HoldControl.Outcome outcome = holds.release(user, 0);
        if (!outcome.found()) {
            throw ApiException.notFound("'" + user + "' is not held");
        }
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("released", user);
        putCluster(root, outcome);
        return ApiResponse.ok(root);
    }

    /** A hold's {@code timeout}: a duration ({@code 90s}, {@code 10m}) or seconds; the default without one. */
    private static Duration timeout(JsonNode value) throws ApiException {
        if (value == null || value.isNull()) {
            return HoldsConfig.DEFAULT_HOLD;
        }
        Optional<Duration> d = value.isIntegralNumber()
                ? Optional.of(Duration.ofSeconds(value.longValue()))
                : value.isTextual() ? Units.parseDuration(value.textValue()) : Optional.empty();
        if (d.isEmpty() || d.get().isNegative() || d.get().isZero()) {
            throw ApiException.invalidBody(
                    "timeout", "'" + value.asText() + "' is not a positive duration (90s, 10m) or number of seconds");
        }
        if (d.get().compareTo(HoldsConfig.MAX_HOLD) > 0) {
            throw ApiException.invalidBody("timeout", "'" + value.asText() + "' is longer than 24h");
        }
        return d.get();
    }

    static void putHold(ObjectNode n, HoldControl.HoldView h, long now) {
        n.put("user", h.user());
        n.put("since", h.since().toString());
        n.put("until", h.until().toString());
        n.put("remaining-ms", Math.max(0, h.until().toEpochMilli() - now));
        n.put("origin", h.origin());
        n.put("waiting", h.waiting());
    }

    /** How far a hold or release reached: {@code cluster: off} for a node on its own, else the cluster's report. */
    static void putCluster(ObjectNode root, HoldControl.Outcome outcome) {
        if (outcome.cluster().isEmpty()) {
            root.put("cluster", "off");
            return;
        }
        // the report lists this node first
        outcome.cluster().get().answers().keySet().stream().findFirst().ifPresent(n -> root.put("node", n));
        root.put("scope", ClusterResources.CLUSTER);
        ClusterResources.putReport(root, outcome.cluster().get(), (n, held) -> n.put("held", held));
    }
}
