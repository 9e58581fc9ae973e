package dev.postern.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A cluster of fake nodes for the admin API: this node is a {@link FakeProxyControl}, and so is each other node. A
 * node in {@link #silent} does not answer (it is missing from the report); while {@link #down}, only this node acts.
 */
final class FakeClusterControl implements ClusterControl {
    static final Duration DEADLINE = Duration.ofSeconds(1);

    final String self;
    final FakeProxyControl local;
    final Map<String, FakeProxyControl> others = new LinkedHashMap<>();
    final Set<String> silent = ConcurrentHashMap.newKeySet();
    final List<String> calls = new ArrayList<>();
    volatile boolean down;

    FakeClusterControl(String self, FakeProxyControl local) {
        this.self = self;
        this.local = local;
        local.cluster = this;
    }

    /** Another node, with these sessions (shown as on that node). */
    FakeProxyControl node(String id, SessionView... sessions) {
        FakeProxyControl n = new FakeProxyControl();
        for (SessionView s : sessions) {
            n.sessions.add(s.withNode(id));
        }
        others.put(id, n);
        return n;
    }

    @Override
    public String nodeId() {
        return self;
    }

    @Override
    public Duration deadline() {
        return DEADLINE;
    }

    private <T> ClusterReport<T> ask(String call, T mine, Function<FakeProxyControl, T> action) {
        calls.add(call);
        if (down) {
            return ClusterReport.unreachable(self, mine, "redis 127.0.0.1:6379 cannot be reached");
        }
        Map<String, T> answers = new LinkedHashMap<>();
        answers.put(self, mine);
        List<String> missing = new ArrayList<>();
        others.forEach((id, node) -> {
            if (silent.contains(id)) {
                missing.add(id);
            } else {
                answers.put(id, action.apply(node));
            }
        });
        return new ClusterReport<>(
                missing.isEmpty() ? ClusterReport.Reach.COMPLETE : ClusterReport.Reach.PARTIAL,
                answers,
                missing,
                others.size(),
                missing.isEmpty() ? Duration.ofMillis(3) : DEADLINE,
                Optional.empty());
    }

    @Override
    public ClusterReport<Integer> killUserSessions(String user) {
        return ask("killUserSessions " + user, local.killUserSessions(user), n -> n.killUserSessions(user));
    }

    @Override
    public ClusterReport<Boolean> killSession(String id) {
        if (local.killSession(id)) {
            return new ClusterReport<>(
                    ClusterReport.Reach.COMPLETE, Map.of(self, true), List.of(), 0, Duration.ZERO, Optional.empty());
        }
        return ask("killSession " + id, false, n -> n.killSession(id));
    }

    @Override
    public ClusterReport<Integer> invalidateAuth(Optional<String> user) {
        Function<FakeProxyControl, Integer> flush = n -> {
            if (user.isPresent()) {
                n.invalidateAuth(user.get());
            } else {
                n.invalidateAllAuth();
            }
            return 2;
        };
        return ask("invalidateAuth " + user.orElse("*"), flush.apply(local), flush);
    }

    @Override
    public ClusterReport<TlsReloadResult> reloadTls() {
        return ask("reloadTls", local.reloadTls(), FakeProxyControl::reloadTls);
    }

    @Override
    public ClusterReport<ConfigReloadResult> reloadConfig() {
        return ask("reloadConfig", local.reloadConfig(), FakeProxyControl::reloadConfig);
    }

    @Override
    public ClusterReport<SessionPage> sessions(SessionFilter filter, int limit) {
        Function<FakeProxyControl, SessionPage> page = n -> {
            List<SessionView> s = n.sessions(filter);
            return new SessionPage(s.size(), s.subList(0, Math.min(limit, s.size())));
        };
        return ask("sessions", page.apply(local), page);
    }

    @Override
    public List<NodeView> nodes() throws ClusterUnavailableException {
        if (down) {
            throw new ClusterUnavailableException("redis 127.0.0.1:6379 cannot be reached");
        }
        List<NodeView> nodes = new ArrayList<>();
        Instant started = AdminFixture.NOW.minusSeconds(3600);
        nodes.add(new NodeView(self, started, AdminFixture.NOW.minusMillis(400), local.sessions.size()));
        others.forEach(
                (id, n) -> nodes.add(new NodeView(id, started, AdminFixture.NOW.minusMillis(1500), n.sessions.size())));
        return nodes;
    }
}
