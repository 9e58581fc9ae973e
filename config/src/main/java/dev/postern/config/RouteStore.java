package dev.postern.config;

import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The one source of truth for routing: the current {@link RoutingTable}, changed only through {@link #update}, which
 * validates the whole new table, persists it, and only then publishes it. Several Postern nodes can share one store
 * (Redis) behind this same interface.
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
     * @throws StoreUnavailableException a shared store cannot be reached; {@link #current} still answers
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

    /**
     * Whether {@link #update} can reach where the table is kept. A shared store that cannot reach its server answers
     * false, and {@link #current} goes on answering the last table it saw; a local store is always available.
     */
    default boolean available() {
        return true;
    }

    /**
     * A shared store cannot take the change now: its server is unreachable or did not answer in time. Routing goes on
     * with {@link #current}.
     */
    final class StoreUnavailableException extends IOException {
        private static final long serialVersionUID = 1L;
        private final boolean outcomeUnknown;

        /**
         * @param outcomeUnknown the change was sent, but no answer came: it may have been applied after all
         */
        public StoreUnavailableException(String message, boolean outcomeUnknown, Throwable cause) {
            super(message, cause);
            this.outcomeUnknown = outcomeUnknown;
        }

        /** True when the change may have been applied (sent, but not confirmed); false when nothing changed. */
        public boolean outcomeUnknown() {
            return outcomeUnknown;
        }
    }

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
