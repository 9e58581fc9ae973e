package dev.postern.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.config.Pool;
import dev.postern.config.RoutingTable;
import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /api/v1/routes/users/{user}/move}: a mailbox move in one call, without a race. It holds the user's new
 * logins, ends the user's live sessions (everywhere, in a cluster), sends the user to the new pool (pinned to one
 * backend with {@code POOL/BACKEND}), and releases the hold once the new route is in force; the held logins then go to
 * the new place. Logins that were past the hold when it began log in again after it (the proxy's login flow sees the
 * hold), so none lands on the old backend after the answer.
 */
final class MoveResources {
    private static final Logger log = LoggerFactory.getLogger(MoveResources.class);
    private static final List<String> MOVE_KEYS = List.of("to");

    private final RoutingChanges changes;
    private final ProxyControl proxy;

    MoveResources(RoutingChanges changes, ProxyControl proxy) {
        this.changes = changes;
        this.proxy = proxy;
    }

    void register(Router router) {
        router.add(HttpMethod.POST, RouteResources.ROUTES + "/users/{user}/move", this::move);
    }

    /** Where a move goes: a pool, and maybe one of its backends. */
    private record Target(String pool, Optional<String> backend) {
        String text() {
            return pool + backend.map(b -> "/" + b).orElse("");
        }
    }

    private ApiResponse move(ApiRequest request) throws ApiException {
        HoldControl holds = HoldResources.control(proxy);
        String user = HoldResources.user(request.param("user"), true);
        String to = Documents.requiredString(request.json(), "to", MOVE_KEYS);
        Target target = target(changes.current(), to);
        Explanation before = proxy.explain(user, Optional.empty());
        long start = System.nanoTime();
        HoldControl.Outcome held = holds.hold(user, holds.holdTimeout());
        long heldAt = System.nanoTime();
        int killed;
        Optional<ClusterReport<Integer>> kick = proxy.cluster().map(c -> c.killUserSessions(user));
        if (kick.isPresent()) {
            killed = kick.get().answers().values().stream()
                    .mapToInt(Integer::intValue)
                    .sum();
        } else {
            killed = proxy.killUserSessions(user);
        }
        long killedAt = System.nanoTime();
        RoutingChanges.Applied applied;
        try {
            applied = changes.apply(request.ifMatch(), t -> {
                Target checked;
                try {
                    checked = target(t, to); // again: the table may have changed since
                } catch (ApiException e) {
                    throw RoutingChanges.abort(e);
                }
                return new RoutingTable(
                        t.revision(), t.pools(), t.routes().withUser(user, checked.pool(), checked.backend()));
            });
        } catch (ApiException | RuntimeException e) {
            holds.release(user, 0); // nothing moved: the held logins go where they went before
            throw e;
        }
        long routedAt = System.nanoTime();
        int waiting = holds.holds().stream()
                .filter(h -> h.user().equals(user))
                .mapToInt(HoldControl.HoldView::waiting)
                .sum();
        HoldControl.Outcome released = holds.release(user, applied.after().revision());
        long end = System.nanoTime();
        log.info(
                "move: {} from {} to {} in {} ms: {} sessions ended, {} logins were held",
                user,
                before.pool().orElse("-"),
                target.text(),
                (end - start) / 1_000_000,
                killed,
                waiting);
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("user", user);
        ObjectNode from = root.putObject("from");
        RouteResources.putOptional(from, "pool", before.pool());
        RouteResources.putOptional(from, "rule", before.rule());
        ObjectNode toNode = root.putObject("to");
        toNode.put("pool", target.pool());
        RouteResources.putOptional(toNode, "backend", target.backend());
        root.put("revision", applied.after().revision());
        root.put("sessions-ended", killed);
        root.put("held-logins", waiting);
        ObjectNode steps = root.putObject("steps-ms");
        steps.put("hold", millis(start, heldAt));
        steps.put("end-sessions", millis(heldAt, killedAt));
        steps.put("route", millis(killedAt, routedAt));
        steps.put("release", millis(routedAt, end));
        root.put("took-ms", millis(start, end));
        putReach(root, "hold", held.cluster().map(ClusterReport::reach));
        putReach(root, "end-sessions", kick.map(ClusterReport::reach));
        putReach(root, "release", released.cluster().map(ClusterReport::reach));
        return ApiResponse.ok(root)
                .changed(applied.before().revision(), applied.after().revision());
    }

    private static double millis(long from, long to) {
        return Math.round((to - from) / 10_000.0) / 100.0;
    }

    /** How far each cluster-wide step got ({@code cluster.hold: complete}); nothing for a node on its own. */
    private static void putReach(ObjectNode root, String step, Optional<ClusterReport.Reach> reach) {
        if (reach.isPresent()) {
            ObjectNode cluster = root.has("cluster") ? (ObjectNode) root.get("cluster") : root.putObject("cluster");
            cluster.put(step, reach.get().word());
        }
    }

    /** {@code POOL} or {@code POOL/BACKEND}, checked against {@code table}: 404 for a pool or backend it lacks. */
    private static Target target(RoutingTable table, String to) throws ApiException {
        String text = to.trim();
        int slash = text.indexOf('/');
        String pool = slash < 0 ? text : text.substring(0, slash);
        Optional<String> backend = slash < 0 ? Optional.empty() : Optional.of(text.substring(slash + 1));
        if (pool.isEmpty() || backend.filter(String::isEmpty).isPresent()) {
            throw ApiException.invalidBody("to", "'" + to + "' is not POOL or POOL/BACKEND");
        }
        Pool p = table.pool(pool).orElseThrow(() -> ApiException.notFound("no pool named '" + pool + "'"));
        if (backend.isPresent() && p.backend(backend.get()).isEmpty()) {
            throw ApiException.notFound("no backend '" + backend.get() + "' in pool '" + pool + "'");
        }
        return new Target(pool, backend);
    }
}
