package dev.postern.proxy.auth;

/** What the admin API may do with authentication: flush cached logins, and read the counts. */
public interface AuthControl {
    /** Forgets every cached answer for {@code user} (case-insensitive); returns how many there were. */
    int invalidate(String user);

    /** Forgets every cached answer. */
    void invalidateAll();

    /** Counts since start. */
    Stats stats();

    /**
     * Counts since start.
     *
     * @param cache the auth cache's counts (all zero when it is off)
     * @param throttledLogins logins refused because their client was blocked
     * @param countedFailures failed logins counted by the throttle
     */
    record Stats(AuthCache.Stats cache, long throttledLogins, long countedFailures) {}
}
