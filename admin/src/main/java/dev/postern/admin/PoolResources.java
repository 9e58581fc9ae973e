package dev.postern.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.config.Backend;
import dev.postern.config.ConfigException;
import dev.postern.config.Pool;
import dev.postern.config.Routes;
import dev.postern.config.RoutingJson;
import dev.postern.config.RoutingTable;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * {@code /api/v1/pools}: list, create, read, replace and delete pools. A pool's document is the one the route store
 * keeps ({@link RoutingJson}), with secrets shown as {@code "***"}; a document written back with {@code "***"} keeps
 * the secret it stands for.
 */
final class PoolResources {
    static final String POOLS = AdminServer.API + "/pools";
    static final String POOL = POOLS + "/{pool}";

    private final RoutingChanges changes;
    private final ProxyControl proxy;

    PoolResources(RoutingChanges changes, ProxyControl proxy) {
        this.changes = changes;
        this.proxy = proxy;
    }

    void register(Router router) {
        router.add(HttpMethod.GET, POOLS, this::list);
        router.add(HttpMethod.POST, POOLS, this::create);
        router.add(HttpMethod.GET, POOL, this::get);
        router.add(HttpMethod.PUT, POOL, this::replace);
        router.add(HttpMethod.DELETE, POOL, this::delete);
        router.add(HttpMethod.GET, POOL + "/status", this::status);
    }

    private ApiResponse list(ApiRequest request) {
        RoutingTable table = changes.current();
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("revision", table.revision());
        ArrayNode pools = root.putArray("pools");
        table.pools().forEach(p -> pools.add(withHealth(p)));
        return ApiResponse.ok(root).withRevision(table.revision());
    }

    /**
     * A pool's document with each backend's live health beside its settings, under {@code health} (read-only: a
     * document written back with it is read without it).
     */
    private ObjectNode withHealth(Pool pool) {
        ObjectNode doc = RoutingJson.toTree(pool, true);
        JsonNode backends = doc.get("backends");
        for (int i = 0; i < pool.backends().size(); i++) {
            ObjectNode health = ((ObjectNode) backends.get(i)).putObject(HEALTH);
            Optional<BackendStatus> live =
                    proxy.backendStatus(pool.name(), pool.backends().get(i).id());
            if (live.isEmpty()) {
                health.putNull("healthy");
                continue;
            }
            health.put("healthy", live.get().healthy());
            health.put("sessions", live.get().sessions());
            lastFailure(health, live.get());
        }
        return doc;
    }

    private static void lastFailure(ObjectNode n, BackendStatus status) {
        if (status.lastFailure().isPresent()) {
            n.put("last-failure", status.lastFailure().get());
            status.lastFailureAt().ifPresent(at -> n.put("last-failure-at", at.toString()));
        } else {
            n.putNull("last-failure");
        }
    }

    /** The read-only key of a listed backend's live health. */
    static final String HEALTH = "health";

    private ApiResponse get(ApiRequest request) throws ApiException {
        RoutingTable table = changes.current();
        Pool pool = existing(table, request.param("pool"));
        return ApiResponse.ok(RoutingJson.toTree(pool, true)).withRevision(table.revision());
    }

    private ApiResponse status(ApiRequest request) throws ApiException {
        RoutingTable table = changes.current();
        Pool pool = existing(table, request.param("pool"));
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("pool", pool.name());
        root.put("revision", table.revision());
        ArrayNode backends = root.putArray("backends");
        for (Backend b : pool.backends()) {
            ObjectNode n = backends.addObject();
            n.put("id", b.id());
            n.put("state", b.state().configName());
            n.put("weight", b.weight());
            Optional<BackendStatus> live = proxy.backendStatus(pool.name(), b.id());
            if (live.isPresent()) {
                n.put("healthy", live.get().healthy());
                n.put("sessions", live.get().sessions());
                lastFailure(n, live.get());
            } else {
                n.putNull("healthy");
                n.putNull("sessions");
            }
        }
        return ApiResponse.ok(root).withRevision(table.revision());
    }

    private ApiResponse create(ApiRequest request) throws ApiException {
        Pool pool = read(request.json());
        RoutingChanges.Applied applied = changes.apply(request.ifMatch(), t -> {
            if (t.pool(pool.name()).isPresent()) {
                throw RoutingChanges.abort(ApiException.conflict(
                        "exists",
                        "The pool exists",
                        "pool '" + pool.name() + "' exists; replace it with PUT " + POOLS + "/" + pool.name()));
            }
            List<Pool> pools = new ArrayList<>(t.pools());
            pools.add(Secrets.restore(pool, Optional.empty(), ""));
            return new RoutingTable(t.revision(), pools, t.routes());
        });
        return ApiResponse.json(
                        HttpResponseStatus.CREATED,
                        RoutingJson.toTree(applied.after().pool(pool.name()).orElseThrow(), true))
                .withHeader("Location", POOLS + "/" + Paths.encode(pool.name()))
                .changed(applied.before().revision(), applied.after().revision());
    }

    private ApiResponse replace(ApiRequest request) throws ApiException {
        String name = request.param("pool");
        JsonNode body = Documents.withKey(request.json(), "name", name);
        Pool pool = read(body);
        boolean[] created = new boolean[1];
        RoutingChanges.Applied applied = changes.apply(request.ifMatch(), t -> {
            Optional<Pool> old = t.pool(name);
            created[0] = old.isEmpty();
            Pool restored = Secrets.restore(pool, old, "");
            List<Pool> pools = new ArrayList<>();
            for (Pool p : t.pools()) {
                pools.add(p.name().equals(name) ? restored : p);
            }
            if (created[0]) {
                pools.add(restored);
            }
            return new RoutingTable(t.revision(), pools, t.routes());
        });
        return ApiResponse.json(
                        created[0] ? HttpResponseStatus.CREATED : HttpResponseStatus.OK,
                        RoutingJson.toTree(applied.after().pool(name).orElseThrow(), true))
                .changed(applied.before().revision(), applied.after().revision());
    }

    private ApiResponse delete(ApiRequest request) throws ApiException {
        String name = request.param("pool");
        boolean force = request.flag("force");
        List<String> removed = new ArrayList<>();
        RoutingChanges.Applied applied = changes.apply(request.ifMatch(), t -> {
            existingOrAbort(t, name);
            List<String> refs = references(t.routes(), name);
            if (!refs.isEmpty() && !force) {
                throw RoutingChanges.abort(ApiException.conflict(
                        "in-use",
                        "The pool is in use",
                        "pool '" + name + "' is the target of " + refs.size() + " route(s): " + String.join(", ", refs)
                                + "; move or delete them first, or delete with ?force=true to delete them too"));
            }
            removed.clear();
            removed.addAll(refs);
            List<Pool> pools = new ArrayList<>(t.pools());
            pools.removeIf(p -> p.name().equals(name));
            return new RoutingTable(t.revision(), pools, withoutPool(t.routes(), name));
        });
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("revision", applied.after().revision());
        root.put("deleted", name);
        ArrayNode routes = root.putArray("routes-deleted");
        removed.forEach(routes::add);
        return ApiResponse.ok(root)
                .changed(applied.before().revision(), applied.after().revision());
    }

    /** The routes that send users to {@code pool}: {@code user a@b}, {@code domain example.com}, {@code default}. */
    static List<String> references(Routes routes, String pool) {
        List<String> refs = new ArrayList<>();
        new TreeMap<>(routes.users()).forEach((u, p) -> {
            if (p.equals(pool)) {
                refs.add("user " + u);
            }
        });
        new TreeMap<>(routes.domains()).forEach((d, p) -> {
            if (p.equals(pool)) {
                refs.add("domain " + d);
            }
        });
        if (routes.defaultPool().filter(pool::equals).isPresent()) {
            refs.add("default");
        }
        return refs;
    }

    private static Routes withoutPool(Routes routes, String pool) {
        Map<String, String> users = new LinkedHashMap<>(routes.users());
        users.values().removeIf(pool::equals);
        Map<String, String> domains = new LinkedHashMap<>(routes.domains());
        domains.values().removeIf(pool::equals);
        return new Routes(users, domains, routes.defaultPool().filter(p -> !p.equals(pool)), routes.pins());
    }

    private static Pool read(JsonNode body) throws ApiException {
        try {
            return RoutingJson.readPool(withoutHealth(body));
        } catch (ConfigException e) {
            throw ApiException.invalid(e.problems());
        }
    }

    /** {@code body} without the read-only {@code health} of its backends (a listed pool written back). */
    private static JsonNode withoutHealth(JsonNode body) {
        if (!(body instanceof ObjectNode) || !(body.get("backends") instanceof ArrayNode)) {
            return body;
        }
        ObjectNode copy = ((ObjectNode) body).deepCopy();
        for (JsonNode b : (ArrayNode) copy.get("backends")) {
            if (b instanceof ObjectNode o) {
                o.remove(HEALTH);
            }
        }
        return copy;
    }

    static Pool existing(RoutingTable table, String name) throws ApiException {
        return table.pool(name).orElseThrow(() -> ApiException.notFound("no pool named '" + name + "'"));
    }

    static Pool existingOrAbort(RoutingTable table, String name) {
        Optional<Pool> pool = table.pool(name);
        if (pool.isEmpty()) {
            throw RoutingChanges.abort(ApiException.notFound("no pool named '" + name + "'"));
        }
        return pool.get();
    }
}
