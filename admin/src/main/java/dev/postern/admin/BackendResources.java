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
import dev.postern.config.Units;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code /api/v1/pools/{pool}/backends}: the backends of a pool, and their state changes: {@code drain} (no new
 * sessions; with a deadline, the proxy then closes the rest), {@code disable} and {@code enable}.
 */
final class BackendResources {
    static final String BACKENDS = PoolResources.POOL + "/backends";
    static final String BACKEND = BACKENDS + "/{backend}";
    private static final List<String> DRAIN_KEYS = List.of("deadline");
    /** A drain deadline further out than this is a mistake (a duration in the wrong unit). */
    private static final Duration MAX_DEADLINE = Duration.ofDays(7);

    private final RoutingChanges changes;
    private final ProxyControl proxy;
    private final Clock clock;

    BackendResources(RoutingChanges changes, ProxyControl proxy, Clock clock) {
        this.changes = changes;
        this.proxy = proxy;
        this.clock = clock;
    }

    void register(Router router) {
        router.add(HttpMethod.GET, BACKENDS, this::list);
        router.add(HttpMethod.POST, BACKENDS, this::create);
        router.add(HttpMethod.GET, BACKEND, this::get);
        router.add(HttpMethod.PUT, BACKEND, this::replace);
        router.add(HttpMethod.DELETE, BACKEND, this::delete);
        router.add(HttpMethod.POST, BACKEND + "/drain", this::drain);
        router.add(HttpMethod.POST, BACKEND + "/disable", r -> setState(r, Backend.State.DISABLED));
        router.add(HttpMethod.POST, BACKEND + "/enable", r -> setState(r, Backend.State.ACTIVE));
    }

    private ApiResponse list(ApiRequest request) throws ApiException {
        RoutingTable table = changes.current();
        Pool pool = PoolResources.existing(table, request.param("pool"));
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("revision", table.revision());
        root.put("pool", pool.name());
        ArrayNode backends = root.putArray("backends");
        pool.backends().forEach(b -> backends.add(RoutingJson.toTree(b, true)));
        return ApiResponse.ok(root).withRevision(table.revision());
    }

    private ApiResponse get(ApiRequest request) throws ApiException {
        RoutingTable table = changes.current();
        Pool pool = PoolResources.existing(table, request.param("pool"));
        Backend backend = existing(pool, request.param("backend"));
        return ApiResponse.ok(RoutingJson.toTree(backend, true)).withRevision(table.revision());
    }

    private ApiResponse create(ApiRequest request) throws ApiException {
        String poolName = request.param("pool");
        Backend backend = read(request.json());
        RoutingChanges.Applied applied = changes.apply(request.ifMatch(), t -> {
            Pool pool = PoolResources.existingOrAbort(t, poolName);
            if (pool.backend(backend.id()).isPresent()) {
                throw RoutingChanges.abort(ApiException.conflict(
                        "exists",
                        "The backend exists",
                        "pool '" + poolName + "' has a backend '" + backend.id() + "'; replace it with PUT"));
            }
            List<Backend> backends = new ArrayList<>(pool.backends());
            backends.add(Secrets.restore(backend, Optional.empty(), ""));
            return replacePool(t, new Pool(pool.name(), pool.balancer(), backends));
        });
        return ApiResponse.json(HttpResponseStatus.CREATED, document(applied.after(), poolName, backend.id()))
                .withHeader(
                        "Location",
                        PoolResources.POOLS + "/" + Paths.encode(poolName) + "/backends/" + Paths.encode(backend.id()))
                .changed(applied.before().revision(), applied.after().revision());
    }

    private ApiResponse replace(ApiRequest request) throws ApiException {
        String poolName = request.param("pool");
        String id = request.param("backend");
        Backend backend = read(Documents.withKey(request.json(), "id", id));
        boolean[] created = new boolean[1];
        RoutingChanges.Applied applied = changes.apply(request.ifMatch(), t -> {
            Pool pool = PoolResources.existingOrAbort(t, poolName);
            Optional<Backend> old = pool.backend(id);
            created[0] = old.isEmpty();
            Backend restored = Secrets.restore(backend, old, "");
            List<Backend> backends = new ArrayList<>();
            for (Backend b : pool.backends()) {
                backends.add(b.id().equals(id) ? restored : b);
            }
            if (created[0]) {
                backends.add(restored);
            }
            return replacePool(t, new Pool(pool.name(), pool.balancer(), backends));
        });
        return ApiResponse.json(
                        created[0] ? HttpResponseStatus.CREATED : HttpResponseStatus.OK,
                        document(applied.after(), poolName, id))
                .changed(applied.before().revision(), applied.after().revision());
    }

    private ApiResponse delete(ApiRequest request) throws ApiException {
        String poolName = request.param("pool");
        String id = request.param("backend");
        RoutingChanges.Applied applied = changes.apply(request.ifMatch(), t -> {
            Pool pool = PoolResources.existingOrAbort(t, poolName);
            existingOrAbort(pool, id);
            if (pool.backends().size() == 1) {
                throw RoutingChanges.abort(ApiException.conflict(
                        "last-backend",
                        "A pool needs a backend",
                        "'" + id + "' is the last backend of pool '" + poolName
                                + "'; add another first, or delete the pool"));
            }
            List<Backend> backends = new ArrayList<>(pool.backends());
            backends.removeIf(b -> b.id().equals(id));
            return replacePool(t, new Pool(pool.name(), pool.balancer(), backends));
        });
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("revision", applied.after().revision());
        root.put("pool", poolName);
        root.put("deleted", id);
        return ApiResponse.ok(root)
                .changed(applied.before().revision(), applied.after().revision());
    }

    private ApiResponse drain(ApiRequest request) throws ApiException {
        Optional<Instant> deadline = deadline(request.optionalJson());
        ApiResponse response = setState(request, Backend.State.DRAINING, deadline);
        proxy.drain(request.param("pool"), request.param("backend"), deadline);
        return response;
    }

    private ApiResponse setState(ApiRequest request, Backend.State state) throws ApiException {
        if (request.body().length > 0) {
            throw ApiException.invalidBody("", "takes no body");
        }
        return setState(request, state, Optional.empty());
    }

    private ApiResponse setState(ApiRequest request, Backend.State state, Optional<Instant> deadline)
            throws ApiException {
        String poolName = request.param("pool");
        String id = request.param("backend");
        long expected = request.ifMatch();
        RoutingTable table = changes.current();
        Backend current = existing(PoolResources.existing(table, poolName), id);
        long before = table.revision();
        long after = table.revision();
        if (current.state() != state || (expected >= 0 && expected != table.revision())) {
            RoutingChanges.Applied applied = changes.apply(expected, t -> {
                Pool pool = PoolResources.existingOrAbort(t, poolName);
                Backend b = existingOrAbort(pool, id);
                List<Backend> backends = new ArrayList<>();
                for (Backend other : pool.backends()) {
                    backends.add(other.id().equals(id) ? withState(b, state) : other);
                }
                return replacePool(t, new Pool(pool.name(), pool.balancer(), backends));
            });
            table = applied.after();
            before = applied.before().revision();
            after = applied.after().revision();
        }
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("revision", after);
        root.put("pool", poolName);
        root.put("backend", id);
        root.put("state", state.configName());
        deadline.ifPresent(d -> root.put("deadline", d.toString()));
        ApiResponse response = ApiResponse.ok(root);
        return before == after ? response.withRevision(after) : response.changed(before, after);
    }

    /** The drain deadline of a {@code {"deadline": "10m"}} or {@code {"deadline": "2030-01-01T00:00:00Z"}} body. */
    private Optional<Instant> deadline(Optional<JsonNode> body) throws ApiException {
        if (body.isEmpty()) {
            return Optional.empty();
        }
        JsonNode doc = body.get();
        if (!doc.isObject()) {
            throw ApiException.invalidBody("", "is not an object (expected {\"deadline\": \"10m\"})");
        }
        List<Problem.FieldError> errors = new ArrayList<>();
        Documents.unknownKeys(doc, DRAIN_KEYS, errors);
        if (!errors.isEmpty()) {
            throw new ApiException(Problem.invalidWith(errors));
        }
        JsonNode value = doc.get("deadline");
        if (value == null || value.isNull()) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        Instant deadline = null;
        if (value.isIntegralNumber() && value.canConvertToLong() && value.asLong() >= 0) {
            deadline = now.plusSeconds(value.asLong());
        } else if (value.isTextual()) {
            String text = value.textValue().trim();
            Optional<Duration> d = Units.parseDuration(text);
            if (d.isPresent()) {
                deadline = now.plus(d.get());
            } else {
                try {
                    deadline = Instant.parse(text);
                } catch (DateTimeParseException e) {
                    deadline = null;
                }
            }
        }
        if (deadline == null) {
            throw ApiException.invalidBody(
                    "deadline",
                    "'" + value.asText() + "' is neither a duration (30s, 10m, 2h) nor a time (2030-01-01T00:00:00Z)");
        }
        if (deadline.isAfter(now.plus(MAX_DEADLINE))) {
            throw ApiException.invalidBody("deadline", "'" + value.asText() + "' is more than 7 days away");
        }
        return Optional.of(deadline.isBefore(now) ? now : deadline);
    }

    private static ObjectNode document(RoutingTable table, String pool, String id) {
        return RoutingJson.toTree(table.pool(pool).orElseThrow().backend(id).orElseThrow(), true);
    }

    static RoutingTable replacePool(RoutingTable table, Pool pool) {
        List<Pool> pools = new ArrayList<>();
        for (Pool p : table.pools()) {
            pools.add(p.name().equals(pool.name()) ? pool : p);
        }
        // a user pinned to a backend that left the pool goes back to the pool's balancer
        Routes routes = table.routes();
        Map<String, String> pins = new LinkedHashMap<>(routes.pins());
        pins.entrySet()
                .removeIf(e -> pool.name().equals(routes.users().get(e.getKey()))
                        && pool.backend(e.getValue()).isEmpty());
        return new RoutingTable(
                table.revision(), pools, new Routes(routes.users(), routes.domains(), routes.defaultPool(), pins));
    }

    static Backend withState(Backend b, Backend.State state) {
        return new Backend(
                b.id(),
                b.host(),
                b.port(),
                b.ports(),
                b.weight(),
                state,
                b.maxSessions(),
                b.tls(),
                b.tlsVerify(),
                b.identity(),
                b.master());
    }

    private static Backend read(JsonNode body) throws ApiException {
        try {
            // a backend copied from a listed pool carries its read-only live health
            JsonNode document = body;
            if (body instanceof ObjectNode o && o.has(PoolResources.HEALTH)) {
                ObjectNode copy = o.deepCopy();
                copy.remove(PoolResources.HEALTH);
                document = copy;
            }
            return RoutingJson.readBackend(document);
        } catch (ConfigException e) {
            throw ApiException.invalid(e.problems());
        }
    }

    private static Backend existing(Pool pool, String id) throws ApiException {
        return pool.backend(id)
                .orElseThrow(() -> ApiException.notFound("pool '" + pool.name() + "' has no backend '" + id + "'"));
    }

    private static Backend existingOrAbort(Pool pool, String id) {
        Optional<Backend> b = pool.backend(id);
        if (b.isEmpty()) {
            throw RoutingChanges.abort(ApiException.notFound("pool '" + pool.name() + "' has no backend '" + id + "'"));
        }
        return b.get();
    }
}
