package dev.postern.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Reads the {@code listeners} section and checks what spans sections: names, overlapping binds, the pools listeners
 * refer to, and that those pools' backends have a port for each listener's protocol.
 */
final class ListenersReader {
    static final List<String> KEYS = List.of(
            "name",
            "protocol",
            "bind",
            "tls",
            "pool",
            "allow-plaintext-auth",
            "starttls-pipelining",
            "timeouts",
            "limits",
            "auth",
            "smtp",
            "proxy-protocol",
            "tls-alpn",
            "throttle",
            "client-certificates");

    private final Problems problems;
    private final List<PoolsReader.PoolDraft> pools;
    private final TimeoutsConfig timeouts;
    private final LimitsConfig limits;
    private final AuthReader auth;
    private final List<Bound> binds = new ArrayList<>();
    private final Map<String, String> names = new HashMap<>();
    /** Pool name, then protocol, then the listeners of that protocol using the pool. */
    private final Map<String, Map<Protocol, List<String>>> poolUsers = new LinkedHashMap<>();

    /** A socket address taken, and by whom ({@code listener 'imaps'}, {@code admin.bind}). */
    private record Bound(String owner, HostPort bind) {}

    /**
     * @param timeouts the global timeouts listeners override
     * @param limits the global limits listeners override
     * @param auth the reader of the auth section, which knows the provider names (read before the listeners)
     */
    ListenersReader(
            Problems problems,
            List<PoolsReader.PoolDraft> pools,
            TimeoutsConfig timeouts,
            LimitsConfig limits,
            AuthReader auth) {
        this.problems = problems;
        this.pools = pools;
        this.timeouts = timeouts;
        this.limits = limits;
        this.auth = auth;
    }

    /** The listeners; null when any is invalid (reported). */
    List<ListenerConfig> read(Node node) {
        List<Node> elements = node.required().nonEmptyList("at least one listener");
        List<ListenerConfig> listeners = new ArrayList<>();
        boolean valid = !elements.isEmpty();
        for (Node element : elements) {
            ListenerConfig listener = listener(element);
            if (listener == null) {
                valid = false;
            } else {
                listeners.add(listener);
            }
        }
        valid &= backendsHavePorts();
        return valid ? listeners : null;
    }

    /** Reports {@code bind} when an earlier listener (or the admin API) already has it; false then. */
    boolean claim(Node at, HostPort bind, String owner) {
        for (Bound other : binds) {
            if (other.bind().port() != bind.port()) {
                continue;
            }
            if (other.bind().host().equalsIgnoreCase(bind.host())) {
                at.problem(bind + " is already used by " + other.owner());
                return false;
            }
            if (other.bind().isWildcard() || bind.isWildcard()) {
                at.problem(bind + " overlaps " + other.bind() + " of " + other.owner());
                return false;
            }
        }
        binds.add(new Bound(owner, bind));
        return true;
    }

    private ListenerConfig listener(Node element) {
        if (!element.isMapping(KEYS)) {
            if (!element.isPresent()) {
                element.problem("is empty (a listener needs name, protocol and bind)");
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
        String label = name != null ? "listener '" + name + "'" : element.path();
        Protocol protocol = element.get("protocol").required().oneOf(Protocol.class);
        Node bindNode = element.get("bind").required();
        HostPort bind = bindNode.hostPort();
        boolean valid = bind != null && claim(bindNode, bind, label);

        Node tlsNode = element.get("tls");
        TlsMode tls = tlsNode.isPresent() ? tlsNode.oneOf(TlsMode.class) : TlsMode.NONE;
        if (tls == TlsMode.STARTTLS && protocol == Protocol.TCP) {
            tlsNode.problem("'starttls' is invalid for a tcp listener (implicit or none): a tcp listener does not"
                    + " speak the protocol");
            valid = false;
        }
        Optional<String> pool = pool(element.get("pool"), protocol);
        valid &= pool != null;
        if (pool != null && pool.isPresent() && protocol != null) {
            poolUsers
                    .computeIfAbsent(pool.get(), p -> new LinkedHashMap<>())
                    .computeIfAbsent(protocol, p -> new ArrayList<>())
                    .add(name != null ? name : element.path());
        }
        Node plaintextNode = element.get("allow-plaintext-auth");
        Boolean allowPlaintextAuth = plaintextNode.isPresent() ? plaintextNode.bool() : Boolean.FALSE;
        Node pipeliningNode = element.get("starttls-pipelining");
        ListenerConfig.StartTlsPipelining pipelining = pipeliningNode.isPresent()
                ? pipeliningNode.oneOf(ListenerConfig.StartTlsPipelining.class)
                : ListenerConfig.StartTlsPipelining.CLOSE;
        TimeoutsConfig listenerTimeouts = SettingsReader.timeouts(element.get("timeouts"), timeouts);
        LimitsConfig listenerLimits = SettingsReader.limits(element.get("limits"), limits);
        List<String> chain = auth.chain(element.get("auth"), protocol == Protocol.TCP);
        SmtpConfig smtp = SmtpReader.read(element.get("smtp"), protocol, pool);
        ProxyProtocolConfig proxyProtocol = ProxyProtocolReader.read(element.get("proxy-protocol"));
        List<String> alpn = AlpnReader.read(element.get("tls-alpn"), protocol);
        Boolean throttled = throttled(element.get("throttle"), protocol);
        ClientCertificatesConfig clientCertificates =
                tls == null ? null : ClientCertificatesReader.read(element.get("client-certificates"), tls);
        if (!valid
                || clientCertificates == null
                || throttled == null
                || chain == null
                || smtp == null
                || proxyProtocol == null
                || alpn == null
                || name == null
                || protocol == null
                || tls == null
                || allowPlaintextAuth == null
                || pipelining == null
                || listenerTimeouts == null
                || listenerLimits == null) {
            return null;
        }
        return new ListenerConfig(
                name,
                protocol,
                bind,
                tls,
                pool,
                allowPlaintextAuth,
                pipelining,
                listenerTimeouts,
                listenerLimits,
                chain,
                smtp,
                proxyProtocol,
                alpn,
                throttled,
                clientCertificates);
    }

    /**
     * A listener's {@code throttle}: only {@code off} (a listener is throttled by default, with {@code auth.throttle}'s
     * settings); null when invalid (reported).
     */
    private static Boolean throttled(Node node, Protocol protocol) {
        if (!node.isPresent()) {
            return Boolean.TRUE;
        }
        if (protocol == Protocol.TCP) {
            node.problem("a tcp listener does not authenticate, so nothing is throttled; remove throttle");
            return null;
        }
        if (node.isOff()) {
            return Boolean.FALSE;
        }
        String what =
                "off (listeners are throttled by default with the settings of auth.throttle; off exempts this one)";
        String text = node.string(what); // a list or mapping is reported here
        if (text != null) {
            node.problem("'" + text + "' is not " + what);
        }
        return null;
    }

    /** The pool a listener names; null when invalid (reported). */
    private Optional<String> pool(Node node, Protocol protocol) {
        if (!node.isPresent()) {
            if (protocol == Protocol.TCP) {
                node.problem("is required for a tcp listener (it relays to a pool)");
                return null;
            }
            return Optional.empty();
        }
        String pool = node.string("a pool name");
        if (pool == null) {
            return null;
        }
        List<String> known = pools.stream()
                .map(PoolsReader.PoolDraft::name)
                .filter(Objects::nonNull)
                .toList();
        if (!known.contains(pool)) {
            node.problem("no pool named '" + pool + "' ("
                    + (known.isEmpty() ? "no pools are defined" : "pools: " + String.join(", ", known)) + ")");
            return null;
        }
        return Optional.of(pool);
    }

    /** Every backend of a pool that listeners use needs a port for their protocols. */
    private boolean backendsHavePorts() {
        boolean valid = true;
        for (PoolsReader.PoolDraft pool : pools) {
            Map<Protocol, List<String>> users = pool.name() == null ? null : poolUsers.get(pool.name());
            if (users == null) {
                continue;
            }
            for (PoolsReader.BackendDraft backend : pool.backends()) {
                if (!backend.portsKnown()) {
                    continue;
                }
                for (Map.Entry<Protocol, List<String>> use : users.entrySet()) {
                    if (!backend.hasPortFor(use.getKey())) {
                        List<String> listeners = use.getValue();
                        problems.add(
                                backend.path(),
                                "no port for protocol " + use.getKey().configName() + " (used by "
                                        + (listeners.size() == 1 ? "listener " : "listeners ")
                                        + listeners.stream()
                                                .map(l -> "'" + l + "'")
                                                .collect(Collectors.joining(", "))
                                        + ")");
                        valid = false;
                    }
                }
            }
        }
        return valid;
    }
}
