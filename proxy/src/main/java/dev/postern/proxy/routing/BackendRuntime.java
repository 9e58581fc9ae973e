package dev.postern.proxy.routing;

import dev.postern.config.Backend;
import dev.postern.proxy.metrics.BackendGauge;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/** A backend as the data plane sees it: its configuration plus live state (sessions, health). */
public final class BackendRuntime implements BackendGauge {
    private final String pool;
    /** Replaced when the route store changes the backend (state, weight, limits); sessions and health stay. */
    private volatile Backend config;

    private final AtomicInteger sessions = new AtomicInteger();
    private volatile boolean healthy = true;
    /** Consecutive check results in the direction opposite to the current state (guarded by this). */
    private int streak;
    /** The last failed health check or observation; null before the first. */
    private volatile Failure lastFailure;

    /**
     * A failed health check or passive observation.
     *
     * @param reason what went wrong ({@code login refused: NO [AUTHENTICATIONFAILED] ...}); never a secret
     * @param at when
     */
    public record Failure(String reason, Instant at) {}

    public BackendRuntime(String pool, Backend config) {
        this.pool = pool;
        this.config = config;
    }

    @Override
    public String pool() {
        return pool;
    }

    public Backend config() {
        return config;
    }

    void update(Backend newConfig) {
        this.config = newConfig;
    }

    @Override
    public String id() {
        return config.id();
    }

    @Override
    public int sessions() {
        return sessions.get();
    }

    void sessionStarted() {
        sessions.incrementAndGet();
    }

    void sessionEnded() {
        sessions.decrementAndGet();
    }

    @Override
    public boolean healthy() {
        return healthy;
    }

    public void healthy(boolean value) {
        this.healthy = value;
    }

    /**
     * Records one health observation (an active check, or a passive one such as a refused connection) and applies the
     * rise/fall rule: {@code fall} failures in a row take a healthy backend out, {@code rise} successes in a row bring
     * an unhealthy one back.
     *
     * @return true when the health state changed
     */
    public synchronized boolean observe(boolean ok, int rise, int fall) {
        if (ok == healthy) {
            streak = 0;
            return false;
        }
        if (++streak >= (ok ? rise : fall)) {
            streak = 0;
            healthy = ok;
            return true;
        }
        return false;
    }

    /** The last failed health check or observation, if any. */
    public Optional<Failure> lastFailure() {
        return Optional.ofNullable(lastFailure);
    }

    /** Records a failed health check or observation. */
    public void failed(String reason, Instant at) {
        this.lastFailure = new Failure(reason, at);
    }

    /** Whether a new session may go here now. */
    public boolean available() {
        int max = config.maxSessions();
        return healthy && config.state() == Backend.State.ACTIVE && (max == 0 || sessions.get() < max);
    }

    @Override
    public String toString() {
        return pool + "/" + config.id();
    }
}
