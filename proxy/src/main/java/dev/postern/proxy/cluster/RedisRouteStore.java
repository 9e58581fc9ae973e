package dev.postern.proxy.cluster;

import dev.postern.config.ConfigException;
import dev.postern.config.ConfigProblem;
import dev.postern.config.LocalRouteStore;
import dev.postern.config.RouteStore;
import dev.postern.config.RoutingJson;
import dev.postern.config.RoutingTable;
import dev.postern.proxy.metrics.Metrics;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routing table shared by a cluster's nodes, kept in Redis as one versioned document (see {@link RouteDocument}).
 * Every change is a compare-and-set on the revision; every node hears of a new revision by pub/sub and reads it at
 * once, and reads the revision every {@code check-interval} too, in case a message was lost.
 *
 * <p>Each node keeps the last table it saw, in memory and in its route file (when it has one), so it routes on
 * while Redis is down and starts with that table when it is restarted then. While Redis is down {@link #current}
 * answers that table and {@link #update} fails with a {@link RouteStore.StoreUnavailableException}; when it is back,
 * the node reads the shared table and takes it; if Redis has none (the cluster's first start, or a Redis that lost
 * its data) the node offers its own, by compare-and-set, so that one node seeds it and the others take that.
 */
public final class RedisRouteStore implements RouteStore, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisRouteStore.class);
    /** A change without If-Match is applied again on the newer table when another node wrote first; this often. */
    static final int MAX_ATTEMPTS = 5;

    private final ClusterClient client;
    private final RouteDocument document;
    private final LocalRouteStore local;
    private final Metrics metrics;
    private final Duration wait;
    private final List<Consumer<RoutingTable>> listeners = new CopyOnWriteArrayList<>();
    private final List<Function<RoutingTable, List<ConfigProblem>>> validators = new CopyOnWriteArrayList<>();
    /** Held across a read and what follows from it, so that a slower, older read never replaces a newer table. */
    private final ReentrantLock lock = new ReentrantLock();

    private final CompletableFuture<Boolean> firstSync = new CompletableFuture<>();
    private volatile RoutingTable current;
    private volatile ScheduledFuture<?> check;
    /** The last shared revision this node refused (logged once); under the lock. */
    private long refused = -1;

    private RedisRouteStore(ClusterClient client, LocalRouteStore local, Metrics metrics) {
        this.client = client;
        this.document = new RouteDocument(client);
        this.local = local;
        this.metrics = metrics;
        this.current = local.current();
        // Lettuce times a command out first; this only bounds a wait that Lettuce somehow never ends
        this.wait = client.config().commandTimeout().plusSeconds(1);
    }

    /**
     * The shared store over {@code client}, starting from {@code local}'s table (the last one this node saw, or the
     * configuration's seed); it follows Redis from the client's first connection on.
     *
     * @param local this node's copy: every table taken from Redis is written to it
     */
    public static RedisRouteStore start(ClusterClient client, LocalRouteStore local, Metrics metrics) {
        RedisRouteStore store = new RedisRouteStore(client, local, metrics);
        client.subscribe(store.document.channel(), store::notified);
        client.onStateChange(up -> {
            if (up) {
                store.sync("connect");
            }
        });
        client.firstRound().thenAccept(up -> {
            if (!up) {
                store.firstSync.complete(false);
            }
        });
        // connected before the listener was in (it missed the event): state changes run on the client's thread, so
        // this comes after them; without it the first read waited for the periodic check
        client.executor().execute(() -> {
            if (client.isUp() && !store.firstSync.isDone()) {
                store.sync("connect");
            }
        });
        long interval = client.config().checkInterval().toMillis();
        store.check = client.executor()
                .scheduleWithFixedDelay(
                        () -> {
                            try {
                                store.check();
                            } catch (RuntimeException e) {
                                // a periodic task that throws is never run again
                                log.error("route store: the revision check failed", e);
                            }
                        },
                        interval,
                        interval,
                        TimeUnit.MILLISECONDS);
        return store;
    }

    /**
     * Waits up to {@code timeout} for the first connection and its read of the shared table, so that a starting node
     * routes with the cluster's table from its first session on; false when Redis did not answer (the node starts
     * with the table it has).
     */
    public boolean awaitFirstSync(Duration timeout) {
        try {
            return firstSync.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public RoutingTable current() {
        return current;
    }

    @Override
    public boolean available() {
        return client.isUp();
    }

    @Override
    public RoutingTable update(long expectedRevision, UnaryOperator<RoutingTable> change)
            throws RevisionConflictException, ConfigException, IOException {
        if (!client.isUp()) {
            throw unreachable(null);
        }
        lock.lock();
        try {
            for (int attempt = 1; ; attempt++) {
                RoutingTable base = current;
                if (expectedRevision >= 0 && expectedRevision != base.revision()) {
                    // this node may not have heard of a change yet: the shared revision decides
                    follow(await(document.read()), "check");
                    base = current;
                    if (expectedRevision != base.revision()) {
                        throw new RevisionConflictException(expectedRevision, base.revision());
                    }
                }
                RoutingTable next = change.apply(base).withRevision(base.revision() + 1);
                List<ConfigProblem> problems = problems(next);
                if (!problems.isEmpty()) {
                    throw new ConfigException(problems);
                }
                RouteDocument.Written w = awaitWrite(document.compareAndSet(base.revision(), next));
                if (w.written()) {
                    install(next);
                    return next;
                }
                // another node wrote first: take its table, then decide
                log.debug("route store: revision {} was taken by another node ({} now)", base.revision(), w.revision());
                follow(await(document.read()), "check");
                if (expectedRevision >= 0 && expectedRevision != current.revision()) {
                    throw new RevisionConflictException(expectedRevision, current.revision());
                }
                if (attempt == MAX_ATTEMPTS) {
                    throw new RevisionConflictException(base.revision(), current.revision());
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void subscribe(Consumer<RoutingTable> listener) {
        listeners.add(listener);
    }

    @Override
    public void addValidator(Function<RoutingTable, List<ConfigProblem>> validator) {
        validators.add(validator);
    }

    /** A change message (on the client's thread): read the table unless it is the one this node has. */
    private void notified(String message) {
        long revision;
        try {
            revision = Long.parseLong(message.trim());
        } catch (NumberFormatException e) {
            revision = -1;
        }
        if (revision != current.revision()) {
            sync("notified");
        }
    }

    /** The periodic check (on the client's thread): the revision only, the table when it differs. */
    private void check() {
        if (!client.isUp()) {
            return;
        }
        long revision;
        try {
            revision = document.revision().get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = RedisErrors.unwrap(e.getCause() == null ? e : e.getCause());
            if (cause instanceof RedisCommandTimeoutException || e instanceof TimeoutException) {
                client.suspect("no answer to the revision check within "
                        + client.config().commandTimeout());
            } else {
                log.debug("route store: revision check failed: {}", RedisErrors.reason(cause));
            }
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (revision != current.revision()) {
            sync("check");
        }
    }

    /** Reads the shared table and takes it (or seeds an empty Redis); on the client's thread, failures logged. */
    private void sync(String trigger) {
        lock.lock();
        try {
            follow(await(document.read()), trigger);
        } catch (IOException e) {
            // a Redis that is still loading its data answers LOADING, for one: the periodic check tries again
            log.info("route store: reading the shared table failed ({}): {}", trigger, e.getMessage());
        } finally {
            lock.unlock();
            if (trigger.equals("connect")) {
                firstSync.complete(true);
            }
        }
    }

    /** Takes {@code stored} when it differs from this node's table; seeds Redis when it holds none. Under the lock. */
    private void follow(RouteDocument.Stored stored, String trigger) throws IOException {
        if (stored.isEmpty()) {
            seed();
            return;
        }
        RoutingTable before = current;
        if (stored.revision() == refused) {
            return;
        }
        RoutingTable shared;
        try {
            shared = RoutingJson.read(stored.json());
        } catch (ConfigException e) {
            refuse(stored, e.problems());
            return;
        }
        if (shared.equals(before)) {
            return;
        }
        List<ConfigProblem> problems = problems(shared);
        if (shared.revision() != stored.revision()) {
            problems.add(new ConfigProblem(
                    "revision", "the table says " + shared.revision() + ", the hash says " + stored.revision()));
        }
        if (!problems.isEmpty()) {
            refuse(stored, problems);
            return;
        }
        if (shared.revision() < before.revision()) {
            log.warn(
                    "route store: the shared table went back from revision {} to {} (a restored Redis?); taking it",
                    before.revision(),
                    shared.revision());
        }
        install(shared);
        metrics.routeStoreResync(trigger);
        log.info(
                "route store: took revision {} of the shared store (written by {}) in place of this node's revision {}",
                shared.revision(),
                stored.node(),
                before.revision());
    }

    /** Offers this node's table to an empty Redis; when another node was first, takes that one's. Under the lock. */
    private void seed() throws IOException {
        RoutingTable mine = current;
        RouteDocument.Written w = awaitWrite(document.compareAndSet(0, mine));
        if (w.written()) {
            metrics.routeStoreResync("seeded");
            log.info(
                    "route store: the shared store was empty; seeded it with this node's revision {}", mine.revision());
            return;
        }
        RouteDocument.Stored stored = await(document.read());
        if (!stored.isEmpty()) {
            follow(stored, "check");
        }
    }

    private void refuse(RouteDocument.Stored stored, List<ConfigProblem> problems) {
        if (refused != stored.revision()) {
            refused = stored.revision();
            log.error(
                    "route store: revision {} of the shared store (written by {}) is refused on this node, which keeps"
                            + " revision {}: {}",
                    stored.revision(),
                    stored.node(),
                    current.revision(),
                    problems);
        }
    }

    /** Puts {@code table} in force: in the route file, in memory, then to the listeners. Under the lock. */
    private void install(RoutingTable table) {
        try {
            local.replace(table);
        } catch (IOException e) {
            // the shared store has it; the file only matters for a restart while Redis is down
            log.warn("route store: revision {} could not be written to {}: {}", table.revision(), local.file(), e);
        }
        current = table;
        for (Consumer<RoutingTable> l : listeners) {
            try {
                l.accept(table);
            } catch (RuntimeException e) {
                log.error("route store listener failed on revision {}", table.revision(), e);
            }
        }
    }

    private List<ConfigProblem> problems(RoutingTable table) {
        List<ConfigProblem> problems = new ArrayList<>(RoutingJson.crossCheck(table));
        for (Function<RoutingTable, List<ConfigProblem>> v : validators) {
            problems.addAll(v.apply(table));
        }
        return problems;
    }

    /** The answer of a read; an unreachable Redis or a refusal as {@link StoreUnavailableException}. */
    private <T> T await(CompletableFuture<T> f) throws StoreUnavailableException {
        return awaitOutcome(f, false);
    }

    /** The answer of a write; one that was sent but not answered may have been applied, and says so. */
    private <T> T awaitWrite(CompletableFuture<T> f) throws StoreUnavailableException {
        return awaitOutcome(f, true);
    }

    private <T> T awaitOutcome(CompletableFuture<T> f, boolean write) throws StoreUnavailableException {
        try {
            return f.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = RedisErrors.unwrap(e.getCause());
            if (cause instanceof RedisErrors.NotConnectedException) {
                throw unreachable(cause);
            }
            if (cause instanceof RedisCommandExecutionException) {
                // Redis answered with an error (an ACL without the rights, a read-only replica): nothing was written
                log.error("route store: redis {} refused a command: {}", client.description(), cause.getMessage());
                throw new StoreUnavailableException(
                        "redis " + client.description() + " refused the command: " + cause.getMessage(), false, cause);
            }
            throw new StoreUnavailableException(
                    "redis " + client.description() + " did not answer: " + RedisErrors.reason(cause), write, cause);
        } catch (TimeoutException e) {
            throw new StoreUnavailableException(
                    "redis " + client.description() + " did not answer within " + wait, write, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted while waiting for redis", write, e);
        }
    }

    private StoreUnavailableException unreachable(Throwable cause) {
        return new StoreUnavailableException(
                "redis " + client.description() + " cannot be reached; routing goes on with revision "
                        + current.revision(),
                false,
                cause);
    }

    /** Stops following Redis (the client is closed by its owner). */
    @Override
    public void close() {
        ScheduledFuture<?> c = check;
        if (c != null) {
            c.cancel(false);
        }
    }
}
