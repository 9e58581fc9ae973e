package dev.postern.proxy.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.admin.CertificateView;
import dev.postern.admin.SessionFilter;
import dev.postern.admin.SessionPage;
import dev.postern.admin.SessionView;
import dev.postern.admin.TlsReloadResult;
import dev.postern.config.Protocol;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The admin API's views as the nodes of a cluster send them to each other (arguments and results of {@link
 * ClusterCommands}). Not the API's own JSON: this one only has to read back what it wrote.
 */
final class ViewJson {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private ViewJson() {}

    static ObjectNode filter(SessionFilter f, int limit) {
        ObjectNode n = MAPPER.createObjectNode();
        f.user().ifPresent(v -> n.put("user", v));
        f.pool().ifPresent(v -> n.put("pool", v));
        f.backend().ifPresent(v -> n.put("backend", v));
        f.protocol().ifPresent(v -> n.put("protocol", v.configName()));
        f.listener().ifPresent(v -> n.put("listener", v));
        n.put("limit", limit);
        return n;
    }

    static SessionFilter filter(JsonNode n) {
        return new SessionFilter(
                text(n, "user"),
                text(n, "pool"),
                text(n, "backend"),
                text(n, "protocol").map(p -> Protocol.valueOf(p.toUpperCase(Locale.ROOT))),
                text(n, "listener"));
    }

    static ObjectNode page(SessionPage page) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("count", page.count());
        ArrayNode list = n.putArray("sessions");
        for (SessionView s : page.sessions()) {
            ObjectNode v = list.addObject();
            v.put("id", s.id());
            s.node().ifPresent(x -> v.put("node", x));
            v.put("listener", s.listener());
            v.put("protocol", s.protocol().configName());
            v.put("client", s.client());
            s.user().ifPresent(x -> v.put("user", x));
            s.pool().ifPresent(x -> v.put("pool", x));
            s.backend().ifPresent(x -> v.put("backend", x));
            s.tls().ifPresent(x -> v.put("tls", x));
            v.put("started", s.started().toEpochMilli());
            v.put("bytes-in", s.bytesIn());
            v.put("bytes-out", s.bytesOut());
        }
        return n;
    }

    /** A node's page; {@code node} names the sessions of an answer that left it out. */
    static SessionPage page(JsonNode n, String node) {
        List<SessionView> sessions = new ArrayList<>();
        for (JsonNode v : n.path("sessions")) {
            sessions.add(new SessionView(
                    v.path("id").asText(),
                    v.path("listener").asText(),
                    Protocol.valueOf(v.path("protocol").asText("tcp").toUpperCase(Locale.ROOT)),
                    v.path("client").asText(),
                    text(v, "user"),
                    text(v, "pool"),
                    text(v, "backend"),
                    text(v, "tls"),
                    Instant.ofEpochMilli(v.path("started").asLong()),
                    v.path("bytes-in").asLong(),
                    v.path("bytes-out").asLong(),
                    Optional.of(text(v, "node").orElse(node))));
        }
        return new SessionPage(n.path("count").asInt(sessions.size()), sessions);
    }

    static ObjectNode reload(TlsReloadResult result) {
        ObjectNode n = MAPPER.createObjectNode();
        if (result instanceof TlsReloadResult.Failed failed) {
            n.put("reloaded", false);
            n.put("reason", failed.reason());
            return n;
        }
        n.put("reloaded", true);
        ArrayNode list = n.putArray("certificates");
        for (CertificateView c : ((TlsReloadResult.Reloaded) result).certificates()) {
            ObjectNode v = list.addObject();
            v.put("name", c.name());
            v.put("subject", c.subject());
            c.dnsNames().forEach(v.putArray("dns-names")::add);
            v.put("not-after", c.notAfter().toEpochMilli());
            c.sniNames().forEach(v.putArray("sni-names")::add);
            v.put("default", c.isDefault());
            v.put("generated", c.generated());
        }
        return n;
    }

    static TlsReloadResult reload(JsonNode n) {
        if (!n.path("reloaded").asBoolean()) {
            return new TlsReloadResult.Failed(n.path("reason").asText("no reason given"));
        }
        List<CertificateView> certificates = new ArrayList<>();
        for (JsonNode v : n.path("certificates")) {
            certificates.add(new CertificateView(
                    v.path("name").asText(),
                    v.path("subject").asText(),
                    strings(v.path("dns-names")),
                    Instant.ofEpochMilli(v.path("not-after").asLong()),
                    strings(v.path("sni-names")),
                    v.path("default").asBoolean(),
                    v.path("generated").asBoolean()));
        }
        return new TlsReloadResult.Reloaded(certificates);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(x -> out.add(x.asText()));
        return out;
    }

    private static Optional<String> text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? Optional.empty() : Optional.of(v.asText());
    }
}
