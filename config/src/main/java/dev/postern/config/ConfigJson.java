package dev.postern.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;

/**
 * A whole configuration as JSON in the YAML file's own keys ({@code listeners}, {@code tls}, {@code pools}, ...), with
 * every secret (key passwords, master passwords, admin tokens, Redis passwords, the secrets of the auth providers)
 * shown as {@code "***"}: what the admin API shows as
 * the configuration in force. Durations and sizes are written the way the file writes them ({@code 30s},
 * {@code 64KiB}).
 */
public final class ConfigJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final String REDACTED = "***";

    private ConfigJson() {}

    /** {@code config} with its secrets redacted; pools and routes are the ones it seeds the route store with. */
    public static ObjectNode toTree(PosternConfig config) {
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode listeners = root.putArray("listeners");
        config.listeners().forEach(l -> listeners.add(listener(l)));
        root.set("tls", tls(config.tls()));
        ArrayNode pools = root.putArray("pools");
        config.pools().forEach(p -> pools.add(RoutingJson.toTree(p, true)));
        root.set("routes", RoutingJson.toTree(config.routes()));
        ObjectNode routing = root.putObject("routing");
        routing.put("store", config.cluster().isPresent() ? "redis" : "file");
        config.routeStore().ifPresent(f -> routing.put("file", f.toString()));
        routing.put("hold-timeout", formatDuration(config.holds().holdTimeout()));
        routing.put("max-held-logins", config.holds().maxHeldLogins());
        config.cluster().ifPresent(c -> root.set("cluster", cluster(c)));
        root.set("timeouts", timeouts(config.timeouts()));
        root.set("limits", limits(config.limits()));
        root.set("admin", admin(config.admin()));
        root.set("auth", AuthJson.toTree(config.auth()));
        root.set("dns", dns(config.dns()));
        root.put("transport", config.transport().configName());
        config.source().ifPresent(f -> root.put("source", f.toString()));
        return root;
    }

    private static ObjectNode listener(ListenerConfig l) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("name", l.name());
        n.put("protocol", l.protocol().configName());
        n.put("bind", l.bind().toString());
        n.put("tls", l.tls().configName());
        l.pool().ifPresent(p -> n.put("pool", p));
        n.put("allow-plaintext-auth", l.allowPlaintextAuth());
        n.put("starttls-pipelining", l.startTlsPipelining().configName());
        n.set("timeouts", timeouts(l.timeouts()));
        n.set("limits", limits(l.limits()));
        if (l.protocol() != Protocol.TCP) {
            ArrayNode auth = n.putArray("auth");
            l.auth().forEach(auth::add);
        }
        if (l.protocol() == Protocol.SMTP || l.protocol() == Protocol.LMTP) {
            n.set("smtp", SmtpJson.toTree(l.smtp(), l.protocol()));
        }
        n.set("proxy-protocol", proxyProtocol(l.proxyProtocol()));
        ArrayNode alpn = n.putArray("tls-alpn");
        l.alpn().forEach(alpn::add);
        if (!l.throttled()) {
            n.put("throttle", "off");
        }
        if (l.clientCertificates().enabled()) {
            n.set("client-certificates", clientCertificates(l.clientCertificates()));
        }
        return n;
    }

    private static ObjectNode clientCertificates(ClientCertificatesConfig c) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("mode", c.mode().configName());
        c.ca().ifPresent(p -> n.put("ca", p.toString()));
        c.crl().ifPresent(p -> n.put("crl", p.toString()));
        ArrayNode userFrom = n.putArray("user-from");
        c.userFrom().forEach(f -> userFrom.add(f.configName()));
        return n;
    }

    private static ObjectNode proxyProtocol(ProxyProtocolConfig p) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("mode", p.mode().configName());
        ArrayNode trusted = n.putArray("trusted");
        p.trusted().forEach(c -> trusted.add(c.toString()));
        n.put("timeout", formatDuration(p.timeout()));
        return n;
    }

    private static ObjectNode tls(TlsConfig tls) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("provider", tls.provider().configName());
        ArrayNode protocols = n.putArray("protocols");
        tls.protocols().forEach(protocols::add);
        ArrayNode ciphers = n.putArray("ciphers");
        tls.ciphers().forEach(ciphers::add);
        n.put("session-cache-size", tls.sessionCacheSize());
        n.put("session-timeout", formatDuration(tls.sessionTimeout()));
        ArrayNode certs = n.putArray("certificates");
        for (CertificateConfig c : tls.certificates()) {
            ObjectNode cert = certs.addObject();
            cert.put("name", c.name());
            cert.put("cert", c.cert().toString());
            cert.put("key", c.key().toString());
            c.keyPassword().ifPresent(p -> cert.put("key-password", REDACTED));
            ArrayNode sni = cert.putArray("sni");
            c.sni().forEach(sni::add);
            cert.put("default", c.isDefault());
        }
        return n;
    }

    private static ObjectNode timeouts(TimeoutsConfig t) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("connect", formatDuration(t.connect()));
        n.put("tls-handshake", formatDuration(t.tlsHandshake()));
        n.put("pre-auth", formatDuration(t.preAuth()));
        n.put("idle", formatDuration(t.idle()));
        n.put("shutdown-grace", formatDuration(t.shutdownGrace()));
        return n;
    }

    private static ObjectNode limits(LimitsConfig l) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("max-connections", l.maxConnections());
        n.put("write-buffer-low", size(l.writeBufferLow()));
        n.put("write-buffer-high", size(l.writeBufferHigh()));
        n.put("line-length", size(l.lineLength()));
        n.put("sasl-line-length", size(l.saslLineLength()));
        n.put("literal-size", size(l.literalSize()));
        n.put("bad-commands", l.badCommands());
        n.put("auth-failures", l.authFailures());
        n.put("pre-auth-connections-per-client", l.preAuthConnectionsPerClient());
        return n;
    }

    private static ObjectNode admin(AdminConfig a) {
        ObjectNode n = MAPPER.createObjectNode();
        a.bind().ifPresent(b -> n.put("bind", b.toString()));
        n.put("tls", a.tls());
        n.put("metrics-auth", a.metricsAuth());
        ArrayNode tokens = n.putArray("tokens");
        for (AdminConfig.Token t : a.tokens()) {
            tokens.addObject()
                    .put("name", t.name())
                    .put("token", REDACTED)
                    .put("access", t.access().configName());
        }
        return n;
    }

    private static ObjectNode dns(DnsConfig d) {
        ObjectNode n = MAPPER.createObjectNode();
        if (!d.systemServers()) {
            ArrayNode servers = n.putArray("servers");
            d.servers().forEach(s -> servers.add(s.toString()));
        }
        n.put("timeout", formatDuration(d.timeout()));
        n.put("cache-min-ttl", formatDuration(d.cacheMinTtl()));
        n.put("cache-max-ttl", formatDuration(d.cacheMaxTtl()));
        return n;
    }

    private static ObjectNode cluster(ClusterConfig c) {
        ObjectNode n = MAPPER.createObjectNode();
        if (!c.addresses().isEmpty()) {
            ArrayNode addresses = n.putArray("addresses");
            c.addresses().forEach(a -> addresses.add(a.toString()));
        }
        c.sentinel().ifPresent(s -> {
            ObjectNode sentinel = n.putObject("sentinel");
            ArrayNode addresses = sentinel.putArray("addresses");
            s.addresses().forEach(a -> addresses.add(a.toString()));
            sentinel.put("master", s.master());
            s.password().ifPresent(p -> sentinel.put("password", REDACTED));
        });
        c.username().ifPresent(u -> n.put("username", u));
        c.password().ifPresent(p -> n.put("password", REDACTED));
        n.put("database", c.database());
        ObjectNode tls = n.putObject("tls");
        tls.put("enabled", c.tls().enabled());
        tls.put("verify", c.tls().verify());
        c.tls().ca().ifPresent(ca -> tls.put("ca", ca.toString()));
        n.put("connect-timeout", formatDuration(c.connectTimeout()));
        n.put("command-timeout", formatDuration(c.commandTimeout()));
        n.put("key-prefix", c.keyPrefix());
        c.nodeId().ifPresent(id -> n.put("node-id", id));
        n.put("check-interval", formatDuration(c.checkInterval()));
        return n;
    }

    /** {@code 64KiB} for sizes that have a binary unit, the plain number of bytes otherwise. */
    static String size(long bytes) {
        String s = Units.formatSize(bytes);
        return s.endsWith("bytes") || s.endsWith("byte") ? String.valueOf(bytes) : s;
    }

    /** The largest unit that states the duration exactly: {@code 2d}, {@code 30m}, {@code 90s}, {@code 1500ms}. */
    static String formatDuration(Duration d) {
        long ms = d.toMillis();
        if (ms != 0 && ms % 86_400_000 == 0) {
            return ms / 86_400_000 + "d";
        }
        if (ms != 0 && ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms != 0 && ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
