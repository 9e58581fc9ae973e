package dev.postern.proxy.routing;

import dev.postern.config.Backend;
import java.util.concurrent.atomic.AtomicInteger;

/** A backend as the data plane sees it: its configuration plus live state (sessions, health). */
public final class BackendRuntime {
    private final String pool;
    private final Backend config;
    private final AtomicInteger sessions = new AtomicInteger();
    private volatile boolean healthy = true;

    public BackendRuntime(String pool, Backend config) {
        this.pool = pool;
        this.config = config;
    }

    public String pool() {
        return pool;
    }

    public Backend config() {
        return config;
    }

    public String id() {
        return config.id();
    }

    public int sessions() {
        return sessions.get();
    }

    void sessionStarted() {
        sessions.incrementAndGet();
    }

    void sessionEnded() {
        sessions.decrementAndGet();
    }

    public boolean healthy() {
        return healthy;
    }

    public void healthy(boolean value) {
        this.healthy = value;
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
