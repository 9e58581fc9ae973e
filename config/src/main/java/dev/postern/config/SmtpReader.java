package dev.postern.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Reads the {@code smtp} block of a listener. */
final class SmtpReader {
    static final List<String> KEYS = List.of(
            "role",
            "hostname",
            "local-domains",
            "trusted-networks",
            "require-tls",
            "max-message-size",
            "data",
            "pregreet",
            "dnsbl",
            "dnsbl-action",
            "dnsbl-failure",
            "allowlist",
            "passed-cache",
            "spf",
            "limits");
    /** The keys that only mean something for a relay (a submission listener takes its hostname and data rule). */
    static final List<String> RELAY_KEYS = KEYS.stream()
            .filter(k -> !List.of("role", "hostname", "data").contains(k))
            .toList();

    /** The keys an lmtp listener takes. */
    static final List<String> LMTP_KEYS = List.of("hostname", "max-message-size", "data");

    static final List<String> DATA_KEYS = List.of("bare-lf");
    static final List<String> PREGREET_KEYS = List.of("banner", "wait");
    static final List<String> LIMIT_KEYS = List.of(
            "connections-per-client",
            "connections-per-minute",
            "messages-per-connection",
            "recipients-per-message",
            "errors-per-session");

    static final Duration MAX_PREGREET_WAIT = Duration.ofMinutes(1);

    private static final Pattern HOSTNAME = Pattern.compile(
            "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");
    private static final Pattern DOMAIN =
            Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+");

    private SmtpReader() {}

    /** An lmtp listener's block sets its host name, message size and data checks only; false when it sets more. */
    private static boolean lmtpKeysOnly(Node node) {
        if (!node.isMapping(KEYS)) {
            return false;
        }
        boolean valid = true;
        for (String key : KEYS) {
            if (!LMTP_KEYS.contains(key) && node.get(key).isPresent()) {
                node.get(key).problem("is not for lmtp listeners (they take hostname, max-message-size and data)");
                valid = false;
            }
        }
        return valid;
    }

    /**
     * The block of a listener of {@code protocol} with {@code pool}; {@link SmtpConfig#DEFAULTS} when absent, null
     * when invalid (reported).
     */
    static SmtpConfig read(Node node, Protocol protocol, Optional<String> pool) {
        if (!node.isPresent()) {
            return SmtpConfig.DEFAULTS;
        }
        if (protocol != null && protocol != Protocol.SMTP && protocol != Protocol.LMTP) {
            node.problem("is only for smtp and lmtp listeners (this one is " + protocol.configName() + ")");
            return null;
        }
        if (protocol == Protocol.LMTP && !lmtpKeysOnly(node)) {
            return null;
        }
        if (!node.isMapping(KEYS)) {
            return null;
        }
        SmtpConfig d = SmtpConfig.DEFAULTS;
        Node roleNode = node.get("role");
        SmtpConfig.Role role = roleNode.isPresent() ? roleNode.oneOf(SmtpConfig.Role.class) : d.role();
        if (role == null) {
            return null;
        }
        boolean valid = true;
        if (role == SmtpConfig.Role.SUBMISSION) {
            // an lmtp listener's keys were checked above
            for (String key : protocol == Protocol.LMTP ? List.<String>of() : RELAY_KEYS) {
                if (node.get(key).isPresent()) {
                    node.get(key).problem("is only for role relay (this listener's role is submission)");
                    valid = false;
                }
            }
        } else if (pool != null && pool.isEmpty()) {
            node.get("role")
                    .problem("relay needs the listener's pool (mail for local-domains and from trusted-networks goes"
                            + " there)");
            valid = false;
        }
        Optional<String> hostname = Optional.empty();
        Node hostNode = node.get("hostname");
        if (hostNode.isPresent()) {
            String h = hostNode.string("a host name");
            if (h != null && (h.length() > 253 || !HOSTNAME.matcher(h).matches())) {
                hostNode.problem("'" + h + "' is not a host name such as mx.example.com");
                h = null;
            }
            valid &= h != null;
            hostname = Optional.ofNullable(h);
        }
        List<String> localDomains = domains(node.get("local-domains"));
        List<Cidr> trusted = Cidr.list(node.get("trusted-networks"));
        Node requireTlsNode = node.get("require-tls");
        Boolean requireTls = requireTlsNode.isPresent() ? requireTlsNode.bool() : Boolean.FALSE;
        Node sizeNode = node.get("max-message-size");
        Integer maxSize = sizeNode.isPresent()
                ? sizeNode.size(1024, Integer.MAX_VALUE)
                : Integer.valueOf((int) SmtpConfig.DEFAULT_MAX_MESSAGE_SIZE);
        SmtpConfig.BareLineEndings bare = data(node.get("data"));
        Optional<SmtpConfig.Pregreet> pregreet = pregreet(node.get("pregreet"));
        Optional<DnsblConfig> dnsbl = dnsbl(node.get("dnsbl"));
        Node actionNode = node.get("dnsbl-action");
        SmtpConfig.DnsblAction action =
                actionNode.isPresent() ? actionNode.oneOf(SmtpConfig.DnsblAction.class) : d.dnsblAction();
        if (role == SmtpConfig.Role.RELAY && actionNode.isPresent() && dnsbl != null && dnsbl.isEmpty()) {
            actionNode.problem("has no effect without dnsbl");
            valid = false;
        }
        Node failureNode = node.get("dnsbl-failure");
        DnsFailure failure = failureNode.isPresent() ? failureNode.oneOf(DnsFailure.class) : DnsFailure.ACCEPT;
        if (failureNode.isPresent() && dnsbl != null && dnsbl.isEmpty()) {
            failureNode.problem("has no effect without dnsbl");
            valid = false;
        }
        if (failure == null) {
            valid = false;
        } else if (dnsbl != null) {
            dnsbl = dnsbl.map(c -> c.withFailure(failure));
        }
        List<Cidr> allowlist = Cidr.list(node.get("allowlist"));
        Node passedNode = node.get("passed-cache");
        Duration passed = passedNode.isPresent() ? passedNode.duration(false) : d.passedCache();
        SpfConfig spf = DnsReader.spf(node.get("spf"));
        SmtpConfig.Limits limits = limits(node.get("limits"));
        if (!valid
                || localDomains == null
                || trusted == null
                || requireTls == null
                || maxSize == null
                || bare == null
                || pregreet == null
                || dnsbl == null
                || action == null
                || allowlist == null
                || passed == null
                || spf == null
                || limits == null) {
            return null;
        }
        return new SmtpConfig(
                role,
                hostname,
                localDomains,
                trusted,
                requireTls,
                maxSize,
                bare,
                pregreet,
                dnsbl,
                action,
                allowlist,
                passed,
                spf,
                limits);
    }

    private static List<String> domains(Node node) {
        List<String> out = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        boolean valid = true;
        for (Node element : node.list()) {
            String text = element.string("a domain");
            if (text == null) {
                valid = false;
                continue;
            }
            String domain = text.trim().toLowerCase(Locale.ROOT);
            if (domain.endsWith(".")) {
                domain = domain.substring(0, domain.length() - 1);
            }
            if (domain.length() > 253 || !DOMAIN.matcher(domain).matches()) {
                element.problem("'" + text + "' is not a domain such as example.com");
                valid = false;
                continue;
            }
            String first = seen.putIfAbsent(domain, element.path());
            if (first != null) {
                element.problem("'" + domain + "' is already listed at " + first);
                valid = false;
                continue;
            }
            out.add(domain);
        }
        return valid ? out : null;
    }

    private static SmtpConfig.BareLineEndings data(Node node) {
        if (!node.isMapping(DATA_KEYS)) {
            return node.isPresent() ? null : SmtpConfig.BareLineEndings.REJECT;
        }
        Node bare = node.get("bare-lf");
        return bare.isPresent() ? bare.oneOf(SmtpConfig.BareLineEndings.class) : SmtpConfig.BareLineEndings.REJECT;
    }

    /** Empty when absent; null when invalid. */
    private static Optional<SmtpConfig.Pregreet> pregreet(Node node) {
        if (!node.isMapping(PREGREET_KEYS)) {
            return node.isPresent() ? null : Optional.empty();
        }
        Node bannerNode = node.get("banner").required();
        String banner = bannerNode.string("a greeting text");
        if (banner != null && (banner.isBlank() || banner.length() > 200 || !banner.matches("[\\x20-\\x7e]+"))) {
            bannerNode.problem("'" + banner + "' is not a greeting text (1-200 printable ASCII characters)");
            banner = null;
        }
        Node waitNode = node.get("wait");
        Duration wait = waitNode.isPresent() ? waitNode.duration(true) : Duration.ofSeconds(6);
        if (wait != null && wait.compareTo(MAX_PREGREET_WAIT) > 0) {
            waitNode.problem(wait.toSeconds() + "s is too long (at most 60s; real servers give up waiting)");
            wait = null;
        }
        if (banner == null || wait == null) {
            return null;
        }
        return Optional.of(new SmtpConfig.Pregreet(banner, wait));
    }

    /** The DNS lists ({@link DnsReader#dnsbl}); empty when absent, null when invalid (reported). */
    private static Optional<DnsblConfig> dnsbl(Node node) {
        if (!node.isPresent()) {
            return Optional.empty();
        }
        DnsblConfig config = DnsReader.dnsbl(node);
        return config == null ? null : Optional.of(config);
    }

    private static SmtpConfig.Limits limits(Node node) {
        SmtpConfig.Limits d = SmtpConfig.Limits.DEFAULTS;
        if (!node.isMapping(LIMIT_KEYS)) {
            return node.isPresent() ? null : d;
        }
        Integer perClient = integer(node.get("connections-per-client"), d.connectionsPerClient());
        Integer perMinute = integer(node.get("connections-per-minute"), d.connectionsPerMinute());
        Integer messages = integer(node.get("messages-per-connection"), d.messagesPerConnection());
        Integer recipients = integer(node.get("recipients-per-message"), d.recipientsPerMessage());
        Integer errors = integer(node.get("errors-per-session"), d.errorsPerSession());
        if (perClient == null || perMinute == null || messages == null || recipients == null || errors == null) {
            return null;
        }
        return new SmtpConfig.Limits(perClient, perMinute, messages, recipients, errors);
    }

    private static Integer integer(Node node, int fallback) {
        return node.isPresent() ? node.integer(0, Integer.MAX_VALUE) : Integer.valueOf(fallback);
    }
}
