package dev.postern.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads the top-level {@code dns} section, and the {@code dnsbl} and {@code spf} sections of the SMTP edge's checks
 * (which an SMTP listener carries).
 */
final class DnsReader {
    static final List<String> DNS_KEYS = List.of("servers", "timeout", "cache-min-ttl", "cache-max-ttl");
    static final List<String> DNSBL_KEYS = List.of("sites", "threshold", "allowlist-threshold", "timeout", "cache-ttl");
    static final List<String> SPF_KEYS = List.of("policy", "timeout", "temperror");

    /** Every site costs a DNS query per new client. */
    static final int MAX_SITES = 32;
    /** Keeps a sum of weights far from overflowing. */
    static final int MAX_WEIGHT = 10_000;
    /** A reversed IPv6 address (64 characters) and a dot go in front of the zone; a name has at most 253. */
    static final int MAX_ZONE_LENGTH = 253 - 65;

    private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");
    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");
    private static final String SITE_EXAMPLE = "zen.example.test=127.0.0.[2..11]*3";

    private DnsReader() {}

    /** The resolver settings; {@link DnsConfig#DEFAULTS} when absent, null when invalid (reported). */
    static DnsConfig dns(Node section) {
        if (!section.isMapping(DNS_KEYS)) {
            return DnsConfig.DEFAULTS;
        }
        DnsConfig d = DnsConfig.DEFAULTS;
        List<HostPort> servers = servers(section.get("servers"));
        Duration timeout = duration(section.get("timeout"), true, d.timeout());
        Duration minTtl = duration(section.get("cache-min-ttl"), false, d.cacheMinTtl());
        Duration maxTtl = duration(section.get("cache-max-ttl"), false, d.cacheMaxTtl());
        if (servers == null || timeout == null || minTtl == null || maxTtl == null) {
            return null;
        }
        if (minTtl.compareTo(maxTtl) > 0) {
            // reported where this section set a value, as with the write buffer water marks
            if (section.get("cache-max-ttl").isPresent()) {
                section.get("cache-max-ttl")
                        .problem(Units.format(maxTtl) + " must be >= cache-min-ttl (" + Units.format(minTtl) + ")");
            } else {
                section.get("cache-min-ttl")
                        .problem(Units.format(minTtl) + " must be <= cache-max-ttl (" + Units.format(maxTtl) + ")");
            }
            return null;
        }
        return new DnsConfig(servers, timeout, minTtl, maxTtl);
    }

    /**
     * DNS block and allow lists ({@code dnsbl:} of an SMTP listener); null when absent or invalid (reported). A section
     * that is present needs at least one site.
     */
    static DnsblConfig dnsbl(Node section) {
        if (!section.isMapping(DNSBL_KEYS)) {
            return null;
        }
        List<DnsblSite> sites = sites(section.get("sites"));
        Node thresholdNode = section.get("threshold");
        Integer threshold = thresholdNode.isPresent()
                ? thresholdNode.integer(1, Integer.MAX_VALUE)
                : Integer.valueOf(DnsblConfig.DEFAULT_THRESHOLD);
        Node allowNode = section.get("allowlist-threshold");
        Integer allowlist = allowNode.isPresent() ? allowNode.integer(-1_000_000_000, 0) : Integer.valueOf(0);
        Duration timeout = duration(section.get("timeout"), true, DnsblConfig.DEFAULT_TIMEOUT);
        Duration cacheTtl = duration(section.get("cache-ttl"), false, DnsblConfig.DEFAULT_CACHE_TTL);
        if (sites == null || threshold == null || allowlist == null || timeout == null || cacheTtl == null) {
            return null;
        }
        return new DnsblConfig(sites, threshold, allowlist, timeout, cacheTtl);
    }

    /**
     * SPF checks ({@code spf:} of an SMTP listener); {@link SpfConfig#OFF} when absent, null when invalid (reported).
     * A section without {@code policy} annotates.
     */
    static SpfConfig spf(Node section) {
        if (!section.isMapping(SPF_KEYS)) {
            return section.isPresent() ? null : SpfConfig.OFF;
        }
        Node policyNode = section.get("policy");
        SpfConfig.Policy policy =
                policyNode.isPresent() ? policyNode.oneOf(SpfConfig.Policy.class) : SpfConfig.Policy.ANNOTATE;
        Duration timeout = duration(section.get("timeout"), true, SpfConfig.DEFAULT_TIMEOUT);
        Node temperrorNode = section.get("temperror");
        DnsFailure temperror = temperrorNode.isPresent() ? temperrorNode.oneOf(DnsFailure.class) : DnsFailure.ACCEPT;
        if (policy == null || timeout == null || temperror == null) {
            return null;
        }
        return new SpfConfig(policy, timeout, temperror);
    }

    private static List<HostPort> servers(Node node) {
        if (!node.isPresent()) {
            return List.of();
        }
        List<HostPort> servers = new ArrayList<>();
        Map<HostPort, String> seen = new HashMap<>();
        boolean valid = true;
        for (Node element : node.nonEmptyList("name server addresses such as 127.0.0.1 or 127.0.0.1:5353; leave"
                + " servers out to use the system's")) {
            HostPort server = server(element);
            if (server == null) {
                valid = false;
                continue;
            }
            String first = seen.putIfAbsent(server, element.path());
            if (first != null) {
                element.problem("'" + server + "' is already listed at " + first);
                valid = false;
                continue;
            }
            servers.add(server);
        }
        return valid && !servers.isEmpty() ? servers : null;
    }

    /** {@code address}, {@code address:port} or {@code [v6]:port}; port 53 by default. */
    private static HostPort server(Node element) {
        String text = element.string("a name server address");
        if (text == null) {
            return null;
        }
        String s = text.trim();
        HostPort server;
        try {
            int colons = s.length() - s.replace(":", "").length();
            if (s.startsWith("[") || colons == 1) {
                server = HostPort.parse(s);
            } else {
                server = new HostPort(s, 53);
            }
        } catch (IllegalArgumentException e) {
            element.problem(e.getMessage());
            return null;
        }
        if (!isIpLiteral(server.host())) {
            element.problem("'" + server.host() + "' is not an IP address (a name server is given by its address:"
                    + " finding it by name would need DNS)");
            return null;
        }
        return server;
    }

    /** A literal IPv4 or IPv6 address, checked without any name lookup. */
    static boolean isIpLiteral(String host) {
        if (IPV4.matcher(host).matches()) {
            return true;
        }
        if (host.indexOf(':') < 0 || !IPV6_CHARS.matcher(host).matches()) {
            return false;
        }
        try {
            // In brackets the JDK parses the text as an IPv6 literal and never looks it up as a name.
            java.net.InetAddress.getByName("[" + host + "]");
            return true;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static List<DnsblSite> sites(Node node) {
        node.required();
        List<Node> elements = node.nonEmptyList("DNS lists such as " + SITE_EXAMPLE);
        if (elements.isEmpty()) {
            return null;
        }
        if (elements.size() > MAX_SITES) {
            node.problem(elements.size() + " sites; at most " + MAX_SITES + " (each costs a DNS query per client)");
            return null;
        }
        List<DnsblSite> sites = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        boolean valid = true;
        for (Node element : elements) {
            DnsblSite site = site(element);
            if (site == null) {
                valid = false;
                continue;
            }
            String key = site.zone() + site.filter().map(f -> "=" + f).orElse("");
            String first = seen.putIfAbsent(key, element.path());
            if (first != null) {
                element.problem("'" + key + "' is already listed at " + first);
                valid = false;
                continue;
            }
            sites.add(site);
        }
        return valid ? sites : null;
    }

    /** {@code zone[=filter][*weight]}. */
    private static DnsblSite site(Node element) {
        String text = element.string("a DNS list such as " + SITE_EXAMPLE);
        if (text == null) {
            return null;
        }
        String s = text.trim();
        if (s.isEmpty()) {
            element.problem("is empty (a DNS list such as " + SITE_EXAMPLE + ")");
            return null;
        }
        int weight = 1;
        int star = s.lastIndexOf('*');
        if (star >= 0) {
            String w = s.substring(star + 1);
            if (!w.matches("[-+]?[0-9]{1,9}")) {
                element.problem("'*" + w + "' is not a weight (a whole number such as *3, or *-2 for an allow list)");
                return null;
            }
            weight = Integer.parseInt(w);
            if (weight == 0) {
                element.problem("weight 0 has no effect (a positive weight for a block list, a negative one for an"
                        + " allow list)");
                return null;
            }
            if (Math.abs(weight) > MAX_WEIGHT) {
                element.problem("weight " + weight + " must be between -" + MAX_WEIGHT + " and " + MAX_WEIGHT);
                return null;
            }
            s = s.substring(0, star);
        }
        Optional<DnsblReplyFilter> filter = Optional.empty();
        int equals = s.indexOf('=');
        if (equals >= 0) {
            try {
                filter = Optional.of(DnsblReplyFilter.parse(s.substring(equals + 1)));
            } catch (IllegalArgumentException e) {
                element.problem(e.getMessage());
                return null;
            }
            s = s.substring(0, equals);
        }
        String zone = zone(element, s);
        return zone == null ? null : new DnsblSite(zone, filter, weight);
    }

    private static String zone(Node element, String text) {
        String zone = text.toLowerCase(Locale.ROOT);
        if (zone.endsWith(".")) {
            zone = zone.substring(0, zone.length() - 1);
        }
        String[] labels = zone.split("\\.", -1);
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                element.problem("'" + text + "' is not a DNS zone (labels of letters, digits, '-' and '_', separated"
                        + " by dots)");
                return null;
            }
        }
        if (labels.length < 2) {
            element.problem("'" + text + "' is not a DNS list's zone (it has one label; lists are zones such as"
                    + " zen.example.test)");
            return null;
        }
        if (zone.length() > MAX_ZONE_LENGTH) {
            element.problem("'" + text + "' is too long (at most " + MAX_ZONE_LENGTH + " characters, so that a"
                    + " reversed IPv6 address fits in front of it)");
            return null;
        }
        return zone;
    }

    private static Duration duration(Node node, boolean positive, Duration fallback) {
        return node.isPresent() ? node.duration(positive) : fallback;
    }
}
