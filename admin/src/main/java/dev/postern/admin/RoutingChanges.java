package dev.postern.admin;

import dev.postern.config.ConfigException;
import dev.postern.config.ConfigProblem;
import dev.postern.config.RouteStore;
import dev.postern.config.RoutingTable;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies one API change to the {@code RouteStore} and turns the store's refusals into API problems: a stale If-Match
 * into 412, a table that the whole-table checks refuse into 409 (with paths into the table), a shared store that
 * cannot be reached into 503, a failed write into 500.
 * A change function aborts with {@link #abort} (404, 409, 400 found while looking at the current table).
 */
final class RoutingChanges {
    private static final Logger log = LoggerFactory.getLogger(RoutingChanges.class);

    /** Carries an {@link ApiException} out of a change function, which cannot throw checked exceptions. */
    private static final class Abort extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient ApiException reason;

        Abort(ApiException reason) {
            super(null, null, false, false);
            this.reason = reason;
        }
    }

    /**
     * A change that was applied.
     *
     * @param before the table it was based on
     * @param after the new table (persisted and published)
     */
    record Applied(RoutingTable before, RoutingTable after) {}

    private final RouteStore store;

    RoutingChanges(RouteStore store) {
        this.store = store;
    }

    RoutingTable current() {
        return store.current();
    }

    /** Whether the store can take changes now (a shared store reaches its server). */
    boolean storeAvailable() {
        return store.available();
    }

    /** Ends a change function with {@code reason}; nothing is changed. */
    static RuntimeException abort(ApiException reason) {
        return new Abort(reason);
    }

    /** Applies {@code change} to the current table, if it is still revision {@code expected} (-1: any). */
    Applied apply(long expected, UnaryOperator<RoutingTable> change) throws ApiException {
        RoutingTable[] before = new RoutingTable[1];
        try {
            RoutingTable after = store.update(expected, t -> {
                before[0] = t;
                return change.apply(t);
            });
            return new Applied(before[0], after);
        } catch (Abort a) {
            throw a.reason;
        } catch (RouteStore.RevisionConflictException e) {
            throw new ApiException(Problem.typed(
                    HttpResponseStatus.PRECONDITION_FAILED,
                    "revision-conflict",
                    "The routing table changed",
                    "If-Match names revision " + expected + ", but the routing table is at revision "
                            + e.currentRevision() + "; read it again and retry"));
        } catch (ConfigException e) {
            throw tableRefused(e.problems());
        } catch (RouteStore.StoreUnavailableException e) {
            log.warn("route store: a change could not be made: {}", e.getMessage());
            throw new ApiException(Problem.typed(
                    HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "store-unavailable",
                    "The route store is unavailable",
                    (e.outcomeUnknown()
                                    ? "the shared route store did not confirm the change in time: it may have been"
                                            + " applied; read the routing table before retrying"
                                    : "the shared route store cannot be reached; nothing was changed")
                            + " (routing goes on with revision "
                            + store.current().revision() + ")"));
        } catch (IOException e) {
            log.error("route store: a change could not be saved: {}", e.toString());
            throw ApiException.of(
                    HttpResponseStatus.INTERNAL_SERVER_ERROR, "the change could not be saved; nothing was changed");
        }
    }

    /** 409: the change would leave the table invalid; the paths point into the routing table. */
    static ApiException tableRefused(List<ConfigProblem> problems) {
        List<Problem.FieldError> errors = new ArrayList<>();
        for (ConfigProblem p : problems) {
            errors.add(Problem.FieldError.body(p.path(), p.message()));
        }
        return new ApiException(new Problem(
                HttpResponseStatus.CONFLICT,
                Problem.TYPE_PREFIX + "invalid-table",
                "The change would leave the routing table invalid",
                problems.size() == 1
                        ? problems.get(0).toString()
                        : problems.size() + " problems (paths point into the routing table); nothing was changed",
                errors));
    }
}
