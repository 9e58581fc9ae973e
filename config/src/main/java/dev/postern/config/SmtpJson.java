package dev.postern.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The {@code smtp} block of an SMTP or LMTP listener as JSON, for {@link ConfigJson}: the keys its role takes (a
 * submission listener takes its host name and data rule, an lmtp one its message size too; the edge policy is a
 * relay's). It holds no secret.
 */
final class SmtpJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private SmtpJson() {}

    static ObjectNode toTree(SmtpConfig s, Protocol protocol) {
        ObjectNode n = MAPPER.createObjectNode();
        if (protocol != Protocol.LMTP) {
            n.put("role", s.role().configName());
        }
        s.hostname().ifPresent(h -> n.put("hostname", h));
        n.putObject("data").put("bare-lf", ConfigNames.of(s.bareLineEndings()));
        if (protocol == Protocol.LMTP) {
            n.put("max-message-size", ConfigJson.size(s.maxMessageSize()));
        }
        if (protocol == Protocol.LMTP || s.role() != SmtpConfig.Role.RELAY) {
            return n;
        }
        n.put("max-message-size", ConfigJson.size(s.maxMessageSize()));
        ArrayNode domains = n.putArray("local-domains");
        s.localDomains().forEach(domains::add);
        ArrayNode trusted = n.putArray("trusted-networks");
        s.trustedNetworks().forEach(c -> trusted.add(c.toString()));
        n.put("require-tls", s.requireTls());
        s.pregreet().ifPresent(p -> n.putObject("pregreet")
                .put("banner", p.banner())
                .put("wait", ConfigJson.formatDuration(p.delay())));
        s.dnsbl().ifPresent(d -> {
            n.set("dnsbl", dnsbl(d));
            n.put("dnsbl-action", ConfigNames.of(s.dnsblAction()));
            n.put("dnsbl-failure", ConfigNames.of(d.onFailure()));
        });
        ArrayNode allowlist = n.putArray("allowlist");
        s.allowlist().forEach(c -> allowlist.add(c.toString()));
        n.put("passed-cache", ConfigJson.formatDuration(s.passedCache()));
        n.putObject("spf")
                .put("policy", ConfigNames.of(s.spf().policy()))
                .put("timeout", ConfigJson.formatDuration(s.spf().timeout()))
                .put("temperror", ConfigNames.of(s.spf().temperror()));
        SmtpConfig.Limits l = s.limits();
        n.putObject("limits")
                .put("connections-per-client", l.connectionsPerClient())
                .put("connections-per-minute", l.connectionsPerMinute())
                .put("messages-per-connection", l.messagesPerConnection())
                .put("recipients-per-message", l.recipientsPerMessage())
                .put("errors-per-session", l.errorsPerSession());
        return n;
    }

    private static ObjectNode dnsbl(DnsblConfig d) {
        ObjectNode n = MAPPER.createObjectNode();
        ArrayNode sites = n.putArray("sites");
        d.sites().forEach(site -> sites.add(site.toString()));
        n.put("threshold", d.threshold());
        n.put("allowlist-threshold", d.allowlistThreshold());
        n.put("timeout", ConfigJson.formatDuration(d.timeout()));
        n.put("cache-ttl", ConfigJson.formatDuration(d.cacheTtl()));
        return n;
    }
}
