package dev.postern.config;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Reads the {@code pools} section. */
final class PoolsReader {
    static final List<String> KEYS = List.of("name", "balancer", "backends", "health-check");
    static final List<String> HEALTH_KEYS =
            List.of("enabled", "protocol", "interval", "timeout", "rise", "fall", "mode", "user", "password");
    static final List<String> BACKEND_KEYS = List.of(
            "id",
            "address",
            "host",
            "port",
            "ports",
            "weight",
            "state",
            "max-sessions",
            "tls",
            "tls-verify",
            "identity",
            "master-user",
            "master-password");

    private static final List<String> PROTOCOL_NAMES =
            Stream.of(Protocol.values()).map(Protocol::configName).toList();
    private static final Pattern BACKEND_ID = Pattern.compile("[A-Za-z0-9\\[][A-Za-z0-9._:\\[\\]-]*");
    /**
     * A host name or an IP address (brackets removed): what can be connected to, and what makes a valid id when the
     * id is derived from it (host:port), so that a table written out reads back.
     */
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9:][A-Za-z0-9._:-]*");

    private PoolsReader() {}

    /**
     * What the listener checks need to know about a backend even when the backend itself is invalid.
     *
     * @param path where it is, e.g. {@code pools[0].backends[1]}
     * @param port its general port; null when it has none
     * @param ports the protocols it has a specific port for
     * @param portsKnown false when its ports could not be read (already reported; no further port problems)
     */
    record BackendDraft(String path, Integer port, Map<Protocol, Integer> ports, boolean portsKnown) {
        boolean hasPortFor(Protocol protocol) {
            return ports.containsKey(protocol) || port != null;
        }
    }

    /**
     * A pool as read.
     *
     * @param name its name; null when missing, invalid or a duplicate (no listener can refer to it then)
     * @param pool the pool; null when anything in it is invalid
     * @param backends its backends, valid or not
     * @param path where it is, e.g. {@code pools[0]}
     */
    record PoolDraft(String name, Pool pool, List<BackendDraft> backends, String path) {}

    static List<PoolDraft> read(Node node) {
        List<PoolDraft> drafts = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        for (Node element : node.list()) {
            PoolDraft draft = pool(element, names);
            if (draft != null) {
                drafts.add(draft);
            }
        }
        return drafts;
    }

    /** One pool; null when it is not even a mapping (reported). {@code names} holds the names already used. */
    static PoolDraft pool(Node element, Map<String, String> names) {
        if (!element.isMapping(KEYS)) {
            if (!element.isPresent()) {
                element.problem("is empty (a pool needs a name and backends)");
            }
            return null;
        }
        Node nameNode = element.get("name").required();
        String name = nameNode.name();
        if (name != null) {
            String previous = names.putIfAbsent(name, element.path());
            if (previous != null) {
                nameNode.problem("'" + name + "' is already used by " + previous);
                name = null;
            }
        }
        Node balancerNode = element.get("balancer");
        Pool.Balancer balancer =
                balancerNode.isPresent() ? balancerNode.oneOf(Pool.Balancer.class) : Pool.DEFAULT_BALANCER;
        HealthCheckConfig health = healthCheck(element.get("health-check"));
        List<BackendDraft> backendDrafts = new ArrayList<>();
        List<Backend> backends = new ArrayList<>();
        Map<String, String> ids = new HashMap<>();
        boolean valid = name != null && balancer != null && health != null;
        Node backendsNode = element.get("backends").required();
        List<Node> backendNodes = backendsNode.nonEmptyList("a pool needs at least one backend");
        valid &= !backendNodes.isEmpty();
        for (Node backendNode : backendNodes) {
            Backend backend = backend(backendNode, backendDrafts, ids);
            if (backend == null) {
                valid = false;
            } else {
                backends.add(backend);
            }
        }
        return new PoolDraft(
                name, valid ? new Pool(name, balancer, backends, health) : null, backendDrafts, element.path());
    }

    /** A pool's health-check settings; the defaults when absent; null after a problem (reported). */
    static HealthCheckConfig healthCheck(Node node) {
        HealthCheckConfig d = HealthCheckConfig.DEFAULTS;
        if (!node.isPresent()) {
            return d;
        }
        if (!node.isMapping(HEALTH_KEYS)) {
            return null;
        }
        Node enabledNode = node.get("enabled");
        Boolean enabled = enabledNode.isPresent() ? enabledNode.bool() : Boolean.valueOf(d.enabled());
        Node protocolNode = node.get("protocol");
        Protocol protocol = protocolNode.isPresent() ? protocolNode.oneOf(Protocol.class) : null;
        Node intervalNode = node.get("interval");
        java.time.Duration interval = intervalNode.isPresent() ? intervalNode.duration(true) : d.interval();
        Node modeNode = node.get("mode");
        HealthCheckConfig.Mode mode = modeNode.isPresent() ? modeNode.oneOf(HealthCheckConfig.Mode.class) : d.mode();
        Node timeoutNode = node.get("timeout");
        java.time.Duration timeout = timeoutNode.isPresent()
                ? timeoutNode.duration(true)
                : mode == HealthCheckConfig.Mode.LOGIN ? HealthCheckConfig.LOGIN_TIMEOUT : d.timeout();
        Node riseNode = node.get("rise");
        Integer rise = riseNode.isPresent() ? riseNode.integer(1, 100) : Integer.valueOf(d.rise());
        Node fallNode = node.get("fall");
        Integer fall = fallNode.isPresent() ? fallNode.integer(1, 100) : Integer.valueOf(d.fall());
        Optional<HealthCheckConfig.ProbeLogin> login = probeLogin(node, modeNode, mode, protocol);
        if (enabled == null
                || (protocolNode.isPresent() && protocol == null)
                || interval == null
                || timeout == null
                || rise == null
                || fall == null
                || mode == null
                || login == null) {
            return null;
        }
        return new HealthCheckConfig(
                enabled, Optional.ofNullable(protocol), interval, timeout, rise, fall, mode, login);
    }

    /**
     * The probe user of a {@code login} check: user and password, both required in that mode and refused in the
     * others; a protocol that cannot log in is refused. Null after a problem (reported); never shows the password.
     */
    private static Optional<HealthCheckConfig.ProbeLogin> probeLogin(
            Node node, Node modeNode, HealthCheckConfig.Mode mode, Protocol protocol) {
        Node userNode = node.get("user");
        Node passwordNode = node.get("password");
        if (mode != HealthCheckConfig.Mode.LOGIN) {
            boolean valid = true;
            for (Node extra : List.of(userNode, passwordNode)) {
                if (extra.isPresent() && mode != null) {
                    extra.problem("is only for mode login (this check's mode is " + mode.configName() + ")");
                    valid = false;
                }
            }
            return valid ? Optional.empty() : null;
        }
        boolean valid = true;
        if (protocol != null && !HealthCheckConfig.LOGIN_PROTOCOLS.contains(protocol)) {
            modeNode.problem("login is only for imap, pop3 and smtp pools (this pool is checked as "
                    + protocol.configName() + ")");
            valid = false;
        }
        String user = null;
        if (userNode.isPresent()) {
            user = userNode.string("a user name");
            valid &= user != null;
        } else {
            node.problem("mode login needs user (the probe user) and password");
            valid = false;
        }
        Secret password = null;
        if (passwordNode.isPresent()) {
            password = passwordNode.secret();
            valid &= password != null;
        } else if (userNode.isPresent()) {
            node.problem("mode login needs password (e.g. password: ${file:/etc/postern/probe.pass})");
            valid = false;
        }
        return valid ? Optional.of(new HealthCheckConfig.ProbeLogin(user, password)) : null;
    }

    /** One backend on its own (an admin API document); null when invalid (reported). */
    static Backend backend(Node node) {
        return backend(node, new ArrayList<>(), new HashMap<>());
    }

    private static Backend backend(Node b, List<BackendDraft> drafts, Map<String, String> ids) {
        if (!b.isMapping(BACKEND_KEYS)) {
            if (!b.isPresent()) {
                b.problem("is empty (a backend needs an address)");
            }
            return null;
        }
        Node address = b.get("address");
        Node hostNode = b.get("host");
        Node portNode = b.get("port");
        String host = null;
        Integer port = null;
        boolean portsKnown = true;
        if (address.isPresent()) {
            if (hostNode.isPresent() || portNode.isPresent()) {
                (hostNode.isPresent() ? hostNode : portNode).problem("give either address or host and port, not both");
                portsKnown = false;
            }
            HostPort hp = address.hostPort();
            if (hp != null && hp.isWildcard()) {
                address.problem("'" + hp + "' is not a backend address (a wildcard is only for bind)");
            } else if (hp != null && !HOST.matcher(hp.host()).matches()) {
                address.problem("'" + hp.host() + "' is not a host name or address");
            } else if (hp != null) {
                host = hp.host();
                port = hp.port();
            }
        } else if (hostNode.isPresent()) {
            host = host(hostNode);
            if (portNode.isPresent()) {
                port = portNode.port();
                portsKnown = port != null;
            }
        } else {
            b.problem("needs address (host:port) or host");
        }
        // A backend without a usable address is reported once; its ports are then beside the point.
        portsKnown &= host != null;
        Map<Protocol, Integer> ports = ports(b.get("ports"));
        if (ports == null) {
            portsKnown = false;
            ports = Map.of();
        } else if (portsKnown && port == null && ports.isEmpty() && host != null) {
            b.problem("needs a port (in address, port or ports)");
            portsKnown = false;
        }
        drafts.add(new BackendDraft(b.path(), port, ports, portsKnown));

        String id = id(b, host, port, ids);
        Node weightNode = b.get("weight");
        Integer weight = weightNode.isPresent() ? weightNode.integer(1, 1000) : Integer.valueOf(1);
        Node stateNode = b.get("state");
        Backend.State state = stateNode.isPresent() ? stateNode.oneOf(Backend.State.class) : Backend.State.ACTIVE;
        Node maxNode = b.get("max-sessions");
        Integer maxSessions = maxNode.isPresent() ? maxNode.integer(0, Integer.MAX_VALUE) : Integer.valueOf(0);
        Node tlsNode = b.get("tls");
        TlsMode tls = tlsNode.isPresent() ? tlsNode.oneOf(TlsMode.class) : TlsMode.NONE;
        Node verifyNode = b.get("tls-verify");
        Boolean tlsVerify = verifyNode.isPresent() ? verifyNode.bool() : Boolean.TRUE;
        Node identityNode = b.get("identity");
        Backend.Identity identity =
                identityNode.isPresent() ? identityNode.oneOf(Backend.Identity.class) : Backend.Identity.NONE;
        Node masterUser = b.get("master-user");
        Node masterPassword = b.get("master-password");
        Optional<Backend.MasterLogin> master = Optional.empty();
        boolean masterValid = true;
        if (masterUser.isPresent() != masterPassword.isPresent()) {
            (masterUser.isPresent() ? masterUser : masterPassword)
                    .problem("master-user and master-password go together");
            masterValid = false;
        } else if (masterUser.isPresent()) {
            String user = masterUser.string("a user name");
            Secret password = masterPassword.secret();
            masterValid = user != null && password != null;
            if (masterValid) {
                master = Optional.of(new Backend.MasterLogin(user, password));
            }
        }
        if (host == null
                || !masterValid
                || !portsKnown
                || id == null
                || weight == null
                || state == null
                || maxSessions == null
                || tls == null
                || tlsVerify == null
                || identity == null) {
            return null;
        }
        return new Backend(
                id, host, port == null ? 0 : port, ports, weight, state, maxSessions, tls, tlsVerify, identity, master);
    }

    private static String host(Node node) {
        String text = node.string("a host name or address");
        if (text == null) {
            return null;
        }
        String host = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        if (!HOST.matcher(host).matches()) {
            node.problem("'" + text + "' is not a host name or address");
            return null;
        }
        if (host.equals("*") || host.equals("0.0.0.0") || host.equals("::")) {
            node.problem("'" + text + "' is not a backend host (a wildcard is only for bind)");
            return null;
        }
        return host;
    }

    /** Per-protocol ports; null when invalid (reported). */
    private static Map<Protocol, Integer> ports(Node node) {
        if (!node.isMapping(PROTOCOL_NAMES)) {
            return node.isPresent() ? null : Map.of();
        }
        Map<Protocol, Integer> ports = new EnumMap<>(Protocol.class);
        boolean valid = true;
        for (Protocol protocol : Protocol.values()) {
            Node portNode = node.get(protocol.configName());
            if (portNode.isPresent()) {
                Integer port = portNode.port();
                if (port == null) {
                    valid = false;
                } else {
                    ports.put(protocol, port);
                }
            }
        }
        // Unknown protocol keys were reported by isMapping.
        return valid && ports.size() == node.entries().size() ? ports : null;
    }

    /** The given id, or host:port (host alone when the backend only has per-protocol ports); unique in the pool. */
    private static String id(Node b, String host, Integer port, Map<String, String> ids) {
        Node idNode = b.get("id");
        String id;
        if (idNode.isPresent()) {
            id = idNode.string("an id");
            if (id != null && !BACKEND_ID.matcher(id).matches()) {
                idNode.problem("'" + id + "' is not a valid id (letters, digits, '.', '_', ':', '-')");
                return null;
            }
        } else if (host != null) {
            String bracketed = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
            id = port == null ? bracketed : bracketed + ":" + port;
        } else {
            return null;
        }
        if (id == null) {
            return null;
        }
        String previous = ids.putIfAbsent(id, b.path());
        if (previous != null) {
            if (idNode.isPresent()) {
                idNode.problem("'" + id + "' is already used by " + previous);
            } else {
                b.problem("id '" + id + "' (from its address) is already used by " + previous + "; give each an id");
            }
            return null;
        }
        return id;
    }
}
