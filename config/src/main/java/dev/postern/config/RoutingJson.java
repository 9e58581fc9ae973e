package dev.postern.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The routing model as JSON: the {@code RouteStore}'s file and the admin API's documents. Read with the same
 * validation as the YAML configuration, so every problem comes back with its JSON path
 * ({@code pools[0].backends[1].weight: 0 must be between 1 and 1000}).
 *
 * <pre>
 * {"revision": 7,
 *  "pools": [{"name": "dovecot", "balancer": "consistent-hash",
 *             "backends": [{"id": "d1", "host": "10.0.0.1", "port": 143, "weight": 1, "state": "active", ...}]}],
 *  "routes": {"users": {"vip@example.com": "fast"}, "domains": {"example.com": "dovecot"}, "default": "dovecot",
 *             "pins": {"vip@example.com": "f2"}}}
 * </pre>
 */
public final class RoutingJson {
    static final List<String> KEYS = List.of("revision", "pools", "routes");

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private RoutingJson() {}

    /** Parses a whole routing table; its revision is taken from the document (0 when absent). */
    public static RoutingTable read(String json) throws ConfigException {
        return read(parse(json));
    }

    /** Parses a whole routing table from a JSON tree. */
    public static RoutingTable read(JsonNode tree) throws ConfigException {
        Problems problems = new Problems();
        Node root = root(tree, problems);
        if (!root.isPresent()) {
            throw new ConfigException(List.of(new ConfigProblem("", "the document is empty")));
        }
        if (!root.isMapping(KEYS)) {
            problems.throwIfAny();
        }
        Node revisionNode = root.get("revision");
        long revision = 0;
        if (revisionNode.isPresent()) {
            JsonNode raw = tree.get("revision");
            if (raw.canConvertToLong() && raw.asLong() >= 0) {
                revision = raw.asLong();
            } else {
                revisionNode.problem("'" + raw.asText() + "' is not a revision (a whole number >= 0)");
            }
        }
        List<PoolsReader.PoolDraft> pools = PoolsReader.read(root.get("pools"));
        Set<String> names = new LinkedHashSet<>();
        pools.forEach(p -> {
            if (p.name() != null) {
                names.add(p.name());
            }
        });
        Routes routes = RoutesReader.read(root.get("routes"), names);
        problems.throwIfAny();
        return new RoutingTable(
                revision, pools.stream().map(PoolsReader.PoolDraft::pool).toList(), routes);
    }

    /**
     * Parses one pool (an admin API document); problem paths are relative to the document ({@code backends[1].weight},
     * the empty path for the document itself).
     */
    public static Pool readPool(JsonNode tree) throws ConfigException {
        Problems problems = new Problems();
        Node root = root(tree, problems);
        if (!root.isPresent()) {
            throw new ConfigException(
                    List.of(new ConfigProblem("", "the document is empty (a pool needs a name and" + " backends)")));
        }
        PoolsReader.PoolDraft draft = PoolsReader.pool(root, new HashMap<>());
        problems.throwIfAny();
        return draft.pool();
    }

    /** Parses one backend (an admin API document); problem paths are relative to the document. */
    public static Backend readBackend(JsonNode tree) throws ConfigException {
        Problems problems = new Problems();
        Node root = root(tree, problems);
        if (!root.isPresent()) {
            throw new ConfigException(
                    List.of(new ConfigProblem("", "the document is empty (a backend needs an" + " address)")));
        }
        Backend backend = PoolsReader.backend(root);
        problems.throwIfAny();
        return backend;
    }

    /** Why {@code user} cannot be the key of a user route, or empty when it can. */
    public static Optional<String> userKeyProblem(String user) {
        return RoutesReader.userProblem(user);
    }

    /** Why {@code domain} cannot be the key of a domain route ({@code example.com}, {@code *.example.com}). */
    public static Optional<String> domainKeyProblem(String domain) {
        return RoutesReader.domainProblem(domain);
    }

    /** Parses routes against the pools that exist. */
    public static Routes readRoutes(JsonNode tree, Set<String> poolNames) throws ConfigException {
        Problems problems = new Problems();
        Routes routes = RoutesReader.read(root(tree, problems), poolNames);
        problems.throwIfAny();
        return routes;
    }

    private static Node root(JsonNode tree, Problems problems) {
        // JSON documents are data: no ${env:...} indirection, no files relative to anything
        Function<String, String> noEnv = name -> null;
        Path nowhere = Path.of("/");
        return Node.root(tree, new Node.Context(problems, new Interpolator(noEnv, nowhere), nowhere));
    }

    /** Parses JSON text into a tree; a syntax error is one problem. */
    public static JsonNode parse(String json) throws ConfigException {
        try {
            JsonNode tree = MAPPER.readTree(json);
            return tree == null ? MAPPER.missingNode() : tree;
        } catch (JsonProcessingException e) {
            var where = e.getLocation();
            String what = e.getOriginalMessage();
            int nl = what.indexOf('\n');
            if (nl >= 0) {
                what = what.substring(0, nl);
            }
            throw new ConfigException(List.of(new ConfigProblem(
                    "",
                    where == null
                            ? "JSON syntax error: " + what
                            : "JSON syntax error at line " + where.getLineNr() + ", column " + where.getColumnNr()
                                    + ": " + what)));
        }
    }

    /** The table as JSON text (secrets included: the store file is private to Postern). */
    public static String write(RoutingTable table) {
        try {
            return MAPPER.writeValueAsString(toTree(table, false));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The table as a JSON tree; {@code redact} replaces secrets by {@code "***"} (for API responses). */
    public static ObjectNode toTree(RoutingTable table, boolean redact) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("revision", table.revision());
        ArrayNode pools = root.putArray("pools");
        table.pools().forEach(p -> pools.add(toTree(p, redact)));
        root.set("routes", toTree(table.routes()));
        return root;
    }

    public static ObjectNode toTree(Pool pool, boolean redact) {
        ObjectNode p = MAPPER.createObjectNode();
        p.put("name", pool.name());
        p.put("balancer", ConfigNames.of(pool.balancer()));
        ArrayNode backends = p.putArray("backends");
        pool.backends().forEach(b -> backends.add(toTree(b, redact)));
        HealthCheckConfig h = pool.healthCheck();
        if (!h.equals(HealthCheckConfig.DEFAULTS)) {
            ObjectNode hc = p.putObject("health-check");
            hc.put("enabled", h.enabled());
            h.protocol().ifPresent(proto -> hc.put("protocol", proto.configName()));
            hc.put("interval", h.interval().toMillis() + "ms");
            hc.put("timeout", h.timeout().toMillis() + "ms");
            hc.put("rise", h.rise());
            hc.put("fall", h.fall());
            if (h.mode() != HealthCheckConfig.DEFAULTS.mode()) {
                hc.put("mode", h.mode().configName());
            }
            h.login().ifPresent(l -> {
                hc.put("user", literal(l.user()));
                hc.put("password", redact ? "***" : literal(l.password().reveal()));
            });
        }
        return p;
    }

    public static ObjectNode toTree(Backend b, boolean redact) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("id", b.id());
        n.put("host", b.host());
        if (b.port() != 0) {
            n.put("port", b.port());
        }
        if (!b.ports().isEmpty()) {
            ObjectNode ports = n.putObject("ports");
            new TreeMap<>(b.ports()).forEach((proto, port) -> ports.put(proto.configName(), port));
        }
        n.put("weight", b.weight());
        n.put("state", ConfigNames.of(b.state()));
        n.put("max-sessions", b.maxSessions());
        n.put("tls", ConfigNames.of(b.tls()));
        n.put("tls-verify", b.tlsVerify());
        n.put("identity", ConfigNames.of(b.identity()));
        b.master().ifPresent(m -> {
            n.put("master-user", literal(m.user()));
            n.put("master-password", redact ? "***" : literal(m.password().reveal()));
        });
        return n;
    }

    /**
     * {@code value} as the reader must see it to read {@code value} back: the reader resolves {@code ${env:...}} and
     * {@code ${file:...}} references in every string, so a literal <code>${</code> (a password can hold one; it was
     * read from <code>$${</code>) is written as <code>$${</code> again. Without this a store file with such a password
     * did not load after a restart, or took another value from the environment (fuzzing found it:
     * {@code found-master-password-literal-reference}).
     */
    static String literal(String value) {
        return value.indexOf("${") < 0 ? value : value.replace("${", "$${");
    }

    public static ObjectNode toTree(Routes routes) {
        ObjectNode r = MAPPER.createObjectNode();
        ObjectNode users = r.putObject("users");
        new TreeMap<>(routes.users()).forEach(users::put);
        ObjectNode domains = r.putObject("domains");
        new TreeMap<>(routes.domains()).forEach(domains::put);
        routes.defaultPool().ifPresent(d -> r.put("default", d));
        if (!routes.pins().isEmpty()) {
            ObjectNode pins = r.putObject("pins");
            new TreeMap<>(routes.pins()).forEach(pins::put);
        }
        return r;
    }

    /** The whole-table checks that single documents cannot make: every route names an existing pool. */
    public static List<ConfigProblem> crossCheck(RoutingTable table) {
        Set<String> names = new LinkedHashSet<>();
        List<ConfigProblem> problems = new java.util.ArrayList<>();
        for (int i = 0; i < table.pools().size(); i++) {
            if (!names.add(table.pools().get(i).name())) {
                problems.add(new ConfigProblem(
                        "pools[" + i + "].name", "'" + table.pools().get(i).name() + "' is already used"));
            }
        }
        for (Map.Entry<String, String> e : new TreeMap<>(table.routes().users()).entrySet()) {
            if (!names.contains(e.getValue())) {
                problems.add(new ConfigProblem("routes.users." + e.getKey(), "no pool named '" + e.getValue() + "'"));
            }
        }
        for (Map.Entry<String, String> e : new TreeMap<>(table.routes().domains()).entrySet()) {
            if (!names.contains(e.getValue())) {
                problems.add(new ConfigProblem("routes.domains." + e.getKey(), "no pool named '" + e.getValue() + "'"));
            }
        }
        for (Map.Entry<String, String> e : new TreeMap<>(table.routes().pins()).entrySet()) {
            Optional<Pool> pool = table.pool(table.routes().users().get(e.getKey()));
            if (pool.isPresent() && pool.get().backends().stream().noneMatch(b -> b.id().equals(e.getValue()))) {
                problems.add(new ConfigProblem(
                        "routes.pins." + e.getKey(),
                        "no backend '" + e.getValue() + "' in pool '"
                                + pool.get().name() + "'"));
            }
        }
        table.routes()
                .defaultPool()
                .filter(d -> !names.contains(d))
                .ifPresent(d -> problems.add(new ConfigProblem("routes.default", "no pool named '" + d + "'")));
        return problems;
    }
}
