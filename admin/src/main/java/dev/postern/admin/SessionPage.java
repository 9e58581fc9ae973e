package dev.postern.admin;

import java.util.List;

/**
 * One node's answer to a session listing.
 *
 * @param count how many sessions matched there
 * @param sessions the oldest of them, at most the limit asked for, oldest first
 */
public record SessionPage(int count, List<SessionView> sessions) {
    public SessionPage {
        sessions = List.copyOf(sessions);
    }
}
