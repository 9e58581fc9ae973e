package dev.postern.admin;

/**
 * A backend's live state, as the proxy sees it (its configured state is in the store).
 *
 * @param healthy whether health checks currently pass
 * @param sessions live sessions on it
 */
public record BackendStatus(boolean healthy, int sessions) {}
