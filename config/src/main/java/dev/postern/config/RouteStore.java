package dev.postern.config;

import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The one source of truth for routing: the current {@link RoutingTable}, changed only through {@link #update}, which
 * validates the whole new table, persists it, and only then publishes it. Several Postern nodes can later share one
 * store (Redis) behind this same interface.
 */
public interface RouteStore {
    /** The table in force now. */
    RoutingTable current();

    /**
     * Replaces the table with {@code change(current)} under the next revision.
     *
     * @param expectedRevision the revision the caller based its change on (an HTTP If-Match), or -1 for any
     * @return the new table, already persisted and published
     * @throws RevisionConflictException someone else changed the table first
     * @throws ConfigException the new table is invalid (every problem, with its path)
     * @throws IOException it could not be persisted; nothing changed
     */
    RoutingTable update(long expectedRevision, UnaryOperator<RoutingTable> change)
            throws RevisionConflictException, ConfigException, IOException;

    /** Calls {@code listener} with every new table, after it is persisted (on the thread that changed it). */
    void subscribe(Consumer<RoutingTable> listener);

    /**
     * Adds a check every new table must pass (for example: the pools that listeners use still exist). Problems it
     * returns make {@link #update} fail with a {@link ConfigException}.
     */
    void addValidator(Function<RoutingTable, List<ConfigProblem>> validator);

    /** The table changed since the caller read it. */
    final class RevisionConflictException extends Exception {
        private static final long serialVersionUID = 1L;
        private final long current;

        public RevisionConflictException(long expected, long current) {
            super("revision " + expected + " is not the current one (" + current + ")", null, false, false);
            this.current = current;
        }

        public long currentRevision() {
            return current;
        }
    }
}
