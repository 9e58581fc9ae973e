package dev.postern.proxy.hold;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** One user's hold in {@link Holds}: its times and the logins waiting on it. */
final class HoldEntry {
    private final Holds holds;
    private final String user;
    private final List<HeldLogin> waiting = new ArrayList<>();
    private Instant since;
    private Instant until;
    private String origin;
    private long releaseAt = -1;
    private boolean closed;

    HoldEntry(Holds holds, String user) {
        this.holds = holds;
        this.user = user;
    }

    String user() {
        return user;
    }

    synchronized void set(Instant from, Instant to, String by) {
        since = from;
        until = to;
        origin = by;
        releaseAt = -1; // set again: a release still waiting for a revision no longer ends it
    }

    synchronized Instant until() {
        return until;
    }

    synchronized long releaseAt() {
        return releaseAt;
    }

    synchronized void releaseAt(long revision) {
        releaseAt = revision;
    }

    /** Adds a waiting login; false when the hold has ended already. */
    synchronized boolean add(HeldLogin login) {
        if (closed) {
            return false;
        }
        waiting.add(login);
        return true;
    }

    synchronized void remove(HeldLogin login) {
        waiting.remove(login);
    }

    /** Ends it: the logins that were waiting. */
    synchronized List<HeldLogin> close() {
        closed = true;
        List<HeldLogin> all = new ArrayList<>(waiting);
        waiting.clear();
        return all;
    }

    synchronized Holds.Hold view() {
        return new Holds.Hold(user, since, until, origin, waiting.size());
    }

    Holds holds() {
        return holds;
    }
}
