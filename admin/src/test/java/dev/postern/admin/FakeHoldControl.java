package dev.postern.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** A {@link HoldControl} that keeps holds in a map, on this node only, and records the calls in its proxy's log. */
final class FakeHoldControl implements HoldControl {
    private final FakeProxyControl proxy;
    private final Map<String, HoldView> holds = new TreeMap<>();

    FakeHoldControl(FakeProxyControl proxy) {
        this.proxy = proxy;
    }

    @Override
    public synchronized Outcome hold(String user, Duration timeout) {
        proxy.calls.add("hold " + user + " " + timeout.toSeconds() + "s");
        HoldView h = new HoldView(user, AdminFixture.NOW, AdminFixture.NOW.plus(timeout), "local", 0);
        holds.put(user, h);
        return new Outcome(true, Optional.of(h), Optional.empty());
    }

    @Override
    public synchronized Outcome release(String user, long minRevision) {
        proxy.calls.add("release " + user + " " + minRevision);
        return new Outcome(holds.remove(user) != null, Optional.empty(), Optional.empty());
    }

    @Override
    public synchronized List<HoldView> holds() {
        return List.copyOf(holds.values());
    }

    @Override
    public Duration holdTimeout() {
        return Duration.ofSeconds(30);
    }

    /** A hold as the proxy would list it (for a test that sets one up without the API). */
    synchronized void put(String user, Instant until, int waiting) {
        holds.put(user, new HoldView(user, AdminFixture.NOW, until, "local", waiting));
    }
}
