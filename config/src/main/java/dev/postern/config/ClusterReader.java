package dev.postern.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads the {@code routing} section (which store keeps the routing table, and the route file) and the {@code cluster}
 * section (the Redis that a cluster's nodes share), checking the two together: {@code store: redis} needs a cluster,
 * and a cluster is only read for {@code store: redis}.
 */
final class ClusterReader {
    static final List<String> ROUTING_KEYS = List.of("store", "file", "hold-timeout", "max-held-logins");
    static final int MAX_HELD_LOGINS = 1_000_000;
    static final List<String> CLUSTER_KEYS = List.of(
            "addresses",
            "sentinel",
            "username",
            "password",
            "database",
            "tls",
            "connect-timeout",
            "command-timeout",
            "key-prefix",
            "node-id",
            "check-interval");
    static final List<String> SENTINEL_KEYS = List.of("addresses", "master", "password");
    static final List<String> TLS_KEYS = List.of("enabled", "verify", "ca");
    static final List<String> STORES = List.of("file", "redis");

    /** Asking Redis more often than this is a mistake (a duration in the wrong unit), not a setting. */
    static final Duration MIN_CHECK_INTERVAL = Duration.ofMillis(100);

    static final int MAX_PREFIX_LENGTH = 64;
    private static final Pattern PREFIX = Pattern.compile("[\\x21-\\x7e]{1," + MAX_PREFIX_LENGTH + "}");
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");
    private static final Pattern NO_SPACE = Pattern.compile("\\S+");

    /**
     * What the two sections say.
     *
     * @param file the route file: the whole store for {@code store: file}, this node's copy of the last table it saw
     *     for {@code store: redis}; empty keeps the table in memory
     * @param cluster the shared Redis, present for {@code store: redis}
     */
    record Routing(Optional<Path> file, Optional<ClusterConfig> cluster) {
        static final Routing IN_MEMORY = new Routing(Optional.empty(), Optional.empty());
    }

    /** {@code routing.hold-timeout} and {@code routing.max-held-logins}; null when invalid (reported). */
    static HoldsConfig holds(Node routing) {
        HoldsConfig d = HoldsConfig.DEFAULTS;
        if (!routing.isPresent()) {
            return d;
        }
        Node timeoutNode = routing.get("hold-timeout");
        Node maxNode = routing.get("max-held-logins");
        Duration timeout = timeoutNode.isPresent() ? timeoutNode.duration(true) : d.holdTimeout();
        Integer max = maxNode.isPresent() ? maxNode.integer(1, MAX_HELD_LOGINS) : Integer.valueOf(d.maxHeldLogins());
        return timeout == null || max == null ? null : new HoldsConfig(timeout, max);
    }

    private ClusterReader() {}

    /** The two sections; null when either is invalid (reported). */
    static Routing read(Node routing, Node cluster) {
        boolean redis = false;
        boolean valid = true;
        Optional<Path> file = Optional.empty();
        if (routing.isMapping(ROUTING_KEYS)) {
            Node storeNode = routing.get("store");
            Node fileNode = routing.get("file");
            String store = storeNode.isPresent() ? storeNode.string("file or redis") : "file";
            if (store == null) {
                valid = false;
            } else if (store.equals("redis")) {
                redis = true;
            } else if (!store.equals("file")) {
                if (looksLikePath(store)) {
                    // the form before cluster mode, `store: /var/lib/postern/routes.json`, still means a file store
                    if (fileNode.isPresent()) {
                        storeNode.problem("'" + store + "' is a path; with routing.file set, store is file or redis");
                        valid = false;
                    } else {
                        file = Optional.ofNullable(storeNode.filePath());
                        valid &= file.isPresent();
                    }
                } else {
                    String hint = Suggestions.closest(store, STORES)
                            .map(s -> "did you mean '" + s + "'?")
                            .orElse("the route file's path goes in routing.file");
                    storeNode.problem("'" + store + "' is not one of file, redis (" + hint + ")");
                    valid = false;
                }
            }
            if (fileNode.isPresent()) {
                Path path = fileNode.filePath();
                valid &= path != null;
                file = Optional.ofNullable(path);
            }
        } else if (routing.isPresent()) {
            valid = false;
        }
        if (!redis) {
            if (cluster.isPresent()) {
                if (valid) {
                    cluster.problem("is set, but routing.store is file (the default); set routing.store: redis to"
                            + " share the routing table through it");
                } else {
                    // the store is misspelt: the cluster's own problems are still worth reporting
                    cluster(cluster);
                }
                return null;
            }
            return valid ? new Routing(file, Optional.empty()) : null;
        }
        if (!cluster.isPresent()) {
            routing.get("store")
                    .problem("redis needs a cluster section (the addresses or the sentinel of the Redis the nodes"
                            + " share)");
            return null;
        }
        ClusterConfig config = cluster(cluster);
        return valid && config != null ? new Routing(file, Optional.of(config)) : null;
    }

    private static boolean looksLikePath(String text) {
        return text.indexOf('/') >= 0 || text.indexOf('.') >= 0;
    }

    /** The {@code cluster} section; null when invalid (reported). */
    static ClusterConfig cluster(Node section) {
        if (!section.isMapping(CLUSTER_KEYS)) {
            return null;
        }
        Node addressesNode = section.get("addresses");
        Node sentinelNode = section.get("sentinel");
        boolean valid = true;
        List<HostPort> addresses = List.of();
        Optional<ClusterConfig.Sentinel> sentinel = Optional.empty();
        if (addressesNode.isPresent() && sentinelNode.isPresent()) {
            sentinelNode.problem("cannot be used with addresses (give one of the two)");
            valid = false;
        } else if (addressesNode.isPresent()) {
            addresses = addresses(addressesNode, ClusterConfig.DEFAULT_PORT, "Redis servers such as 10.0.0.5:6379");
            valid &= addresses != null;
        } else if (sentinelNode.isPresent()) {
            ClusterConfig.Sentinel s = sentinel(sentinelNode);
            sentinel = Optional.ofNullable(s);
            valid &= s != null;
        } else {
            section.problem("needs addresses (the Redis servers, host:port) or a sentinel");
            valid = false;
        }
        Node usernameNode = section.get("username");
        String username = null;
        if (usernameNode.isPresent()) {
            username = word(usernameNode, "a user name");
            valid &= username != null;
        }
        Secret password = secret(section.get("password"));
        valid &= password != null || !section.get("password").isPresent();
        if (usernameNode.isPresent() && !section.get("password").isPresent()) {
            usernameNode.problem("needs a password (an ACL user logs in with both)");
            valid = false;
        }
        Node databaseNode = section.get("database");
        Integer database = databaseNode.isPresent() ? databaseNode.integer(0, Integer.MAX_VALUE) : Integer.valueOf(0);
        ClusterConfig.Tls tls = tls(section.get("tls"));
        Duration connect = duration(section.get("connect-timeout"), ClusterConfig.DEFAULT_CONNECT_TIMEOUT);
        Duration command = duration(section.get("command-timeout"), ClusterConfig.DEFAULT_COMMAND_TIMEOUT);
        Duration check = duration(section.get("check-interval"), ClusterConfig.DEFAULT_CHECK_INTERVAL);
        if (check != null && check.compareTo(MIN_CHECK_INTERVAL) < 0) {
            section.get("check-interval")
                    .problem(Units.format(check) + " must be >= " + Units.format(MIN_CHECK_INTERVAL));
            check = null;
        }
        String prefix = keyPrefix(section.get("key-prefix"));
        Node nodeIdNode = section.get("node-id");
        Optional<String> nodeId = Optional.empty();
        if (nodeIdNode.isPresent()) {
            String id = nodeIdNode.string("a node id");
            if (id != null && !NODE_ID.matcher(id).matches()) {
                nodeIdNode.problem("'" + id + "' is not a node id (up to 64 letters, digits, '.', '_', ':' and '-',"
                        + " starting with a letter or digit)");
                id = null;
            }
            nodeId = Optional.ofNullable(id);
            valid &= id != null;
        }
        if (!valid
                || database == null
                || tls == null
                || connect == null
                || command == null
                || check == null
                || prefix == null) {
            return null;
        }
        return new ClusterConfig(
                addresses,
                sentinel,
                Optional.ofNullable(username),
                Optional.ofNullable(password),
                database,
                tls,
                connect,
                command,
                prefix,
                nodeId,
                check);
    }

    private static ClusterConfig.Sentinel sentinel(Node section) {
        if (!section.isMapping(SENTINEL_KEYS)) {
            return null;
        }
        Node addressesNode = section.get("addresses").required();
        List<HostPort> addresses = addressesNode.isPresent()
                ? addresses(addressesNode, ClusterConfig.DEFAULT_SENTINEL_PORT, "Sentinels such as 10.0.0.5:26379")
                : null;
        String master = word(section.get("master").required(), "the name the Sentinels monitor");
        Node passwordNode = section.get("password");
        Secret password = secret(passwordNode);
        if (addresses == null || master == null || (passwordNode.isPresent() && password == null)) {
            return null;
        }
        return new ClusterConfig.Sentinel(addresses, master, Optional.ofNullable(password));
    }

    private static ClusterConfig.Tls tls(Node section) {
        if (!section.isMapping(TLS_KEYS)) {
            return section.isPresent() ? null : ClusterConfig.Tls.OFF;
        }
        Node enabledNode = section.get("enabled");
        Boolean enabled = enabledNode.isPresent() ? enabledNode.bool() : Boolean.TRUE;
        Node verifyNode = section.get("verify");
        Boolean verify = verifyNode.isPresent() ? verifyNode.bool() : Boolean.TRUE;
        Node caNode = section.get("ca");
        Path ca = caNode.isPresent() ? caNode.readableFile() : null;
        if (enabled == null || verify == null || (caNode.isPresent() && ca == null)) {
            return null;
        }
        if (ca != null && !enabled) {
            caNode.problem("is set, but tls.enabled is false");
            return null;
        }
        if (ca != null && !verify) {
            caNode.problem("is not used with verify: false (nothing is checked against it)");
            return null;
        }
        return new ClusterConfig.Tls(enabled, verify, Optional.ofNullable(ca));
    }

    /** {@code host} or {@code host:port} ({@code [v6]:port}), {@code defaultPort} when none is given. */
    private static List<HostPort> addresses(Node node, int defaultPort, String what) {
        List<HostPort> out = new ArrayList<>();
        Map<HostPort, String> seen = new HashMap<>();
        boolean valid = true;
        for (Node element : node.nonEmptyList(what)) {
            HostPort address = address(element, defaultPort);
            if (address == null) {
                valid = false;
                continue;
            }
            String first = seen.putIfAbsent(address, element.path());
            if (first != null) {
                element.problem("'" + address + "' is already listed at " + first);
                valid = false;
                continue;
            }
            out.add(address);
        }
        return valid && !out.isEmpty() ? out : null;
    }

    private static HostPort address(Node element, int defaultPort) {
        String text = element.string("host:port");
        if (text == null) {
            return null;
        }
        String s = text.trim();
        HostPort address;
        try {
            int colons = s.length() - s.replace(":", "").length();
            address = s.startsWith("[") || colons == 1 ? HostPort.parse(s) : new HostPort(s, defaultPort);
        } catch (IllegalArgumentException e) {
            element.problem(e.getMessage());
            return null;
        }
        if (address.host().isEmpty()) {
            element.problem("is empty (host:port)");
            return null;
        }
        if (address.isWildcard()) {
            element.problem("'" + address + "' is a wildcard, not a server to connect to");
            return null;
        }
        return address;
    }

    private static String keyPrefix(Node node) {
        if (!node.isPresent()) {
            return ClusterConfig.DEFAULT_KEY_PREFIX;
        }
        String prefix = node.string("a key prefix");
        if (prefix != null && !PREFIX.matcher(prefix).matches()) {
            node.problem("'" + prefix + "' is not a key prefix (1 to " + MAX_PREFIX_LENGTH
                    + " printable characters without spaces, e.g. postern-prod:)");
            return null;
        }
        return prefix;
    }

    /** A non-empty value without spaces (a user name, a master name). */
    private static String word(Node node, String what) {
        String text = node.string(what);
        if (text == null) {
            return null;
        }
        if (!NO_SPACE.matcher(text).matches()) {
            node.problem(text.isEmpty() ? "is empty (" + what + ")" : "'" + text + "' has spaces (" + what + ")");
            return null;
        }
        return text;
    }

    /** A secret that is not empty; its value never appears in a problem. */
    private static Secret secret(Node node) {
        Secret secret = node.secret();
        if (secret != null && secret.isEmpty()) {
            node.problem("is empty");
            return null;
        }
        return secret;
    }

    private static Duration duration(Node node, Duration fallback) {
        return node.isPresent() ? node.duration(true) : fallback;
    }
}
