package dev.postern.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.config.Protocol;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link ProxyControl} with state the tests set, recording what the API asked of it. */
final class FakeProxyControl implements ProxyControl {
    final List<SessionView> sessions = new CopyOnWriteArrayList<>();
    final List<String> calls = new CopyOnWriteArrayList<>();
    final Map<String, BackendStatus> statuses = new ConcurrentHashMap<>();
    volatile List<CertificateView> certificates =
            List.of(certificate("example-com", Instant.parse("2030-01-01T00:00:00Z")));
    volatile TlsReloadResult reloadResult;
    volatile ConfigReloadResult configReload;
    volatile Readiness readiness = new Readiness(true, Map.of("dovecot", 2));
    volatile Explanation explanation;
    volatile ClusterControl cluster;
    final FakeHoldControl holds = new FakeHoldControl(this);

    static CertificateView certificate(String name, Instant notAfter) {
        return new CertificateView(
                name,
                "CN=mail.example.com",
                List.of("mail.example.com", "imap.example.com"),
                notAfter,
                List.of("mail.example.com"),
                true,
                false);
    }

    static SessionView session(String id, Protocol protocol, String user, String pool, String backend) {
        return new SessionView(
                id,
                protocol.configName() + "s",
                protocol,
                "203.0.113.7:51514",
                Optional.ofNullable(user),
                Optional.ofNullable(pool),
                Optional.ofNullable(backend),
                Optional.of("TLSv1.3"),
                Instant.parse("2026-01-01T00:00:00Z"),
                100,
                2000);
    }

    @Override
    public List<SessionView> sessions(SessionFilter filter) {
        calls.add("sessions");
        return sessions.stream().filter(filter::test).toList();
    }

    @Override
    public boolean killSession(String id) {
        calls.add("killSession " + id);
        return sessions.removeIf(s -> s.id().equals(id));
    }

    @Override
    public int killUserSessions(String user) {
        calls.add("killUserSessions " + user);
        List<SessionView> gone = new ArrayList<>();
        for (SessionView s : sessions) {
            if (s.user().filter(u -> u.equalsIgnoreCase(user)).isPresent()) {
                gone.add(s);
            }
        }
        sessions.removeAll(gone);
        return gone.size();
    }

    @Override
    public void invalidateAuth(String user) {
        calls.add("invalidateAuth " + user);
    }

    @Override
    public void invalidateAllAuth() {
        calls.add("invalidateAllAuth");
    }

    @Override
    public ConfigReloadResult reloadConfig() {
        calls.add("reloadConfig");
        ConfigReloadResult r = configReload;
        return r != null
                ? r
                : new ConfigReloadResult.Applied(
                        "/etc/postern/postern.yaml", List.of(), List.of(), List.of(), List.of(), List.of(), false);
    }

    @Override
    public TlsReloadResult reloadTls() {
        calls.add("reloadTls");
        TlsReloadResult r = reloadResult;
        return r != null ? r : new TlsReloadResult.Reloaded(certificates);
    }

    @Override
    public List<CertificateView> certificates() {
        return certificates;
    }

    @Override
    public JsonNode effectiveConfig() {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.putObject("admin")
                .put("bind", "127.0.0.1:9025")
                .putArray("tokens")
                .addObject()
                .put("name", "ops")
                .put("token", "***");
        return root;
    }

    @Override
    public Readiness readiness() {
        return readiness;
    }

    @Override
    public Optional<BackendStatus> backendStatus(String pool, String backend) {
        return Optional.ofNullable(statuses.get(pool + "/" + backend));
    }

    @Override
    public Explanation explain(String user, Optional<Protocol> protocol) {
        calls.add("explain " + user + " " + protocol.map(Protocol::configName).orElse("-"));
        Explanation e = explanation;
        return e != null ? e : new Explanation(user, Optional.empty(), Optional.empty(), Optional.empty(), List.of());
    }

    @Override
    public Optional<ClusterControl> cluster() {
        return Optional.ofNullable(cluster);
    }

    @Override
    public Optional<HoldControl> holds() {
        return Optional.of(holds);
    }

    @Override
    public void drain(String pool, String backend, Optional<Instant> deadline) {
        calls.add("drain " + pool + "/" + backend + " "
                + deadline.map(Instant::toString).orElse("-"));
    }
}
