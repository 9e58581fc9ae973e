package dev.postern.proxy.hold;

import dev.postern.config.HoldsConfig;
import dev.postern.proxy.metrics.Metrics;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds of new logins, per user (a mailbox move, like Dovecot's {@code delay_until}): while a user is held, the
 * user's logins wait after authentication and before routing, each at most {@code routing.hold-timeout}, and go on
 * when the hold is released or ends at its own timeout. Waits are timers on the waiting session's event loop, never a
 * blocked thread, and at most {@code routing.max-held-logins} wait at once.
 *
 * <p>A login that was already past the hold when the hold began is caught by {@link #heldSince}: the login flow asks
 * it once the backend has accepted the login, and logs in again (after the hold) when a hold of that user began in
 * between. So no login routed before a move lands on the old backend after it.
 *
 * <p>A release can wait for a routing revision ({@code minRevision}): in a cluster the release may reach a node before
 * the new routing table does, and held logins must see the new route.
 */
public final class Holds {
    private static final Logger log = LoggerFactory.getLogger(Holds.class);

    /** How long the start of a released hold is remembered for {@link #heldSince}: longer than any login takes. */
    static final Duration RECENT = Duration.ofMinutes(10);

    /**
     * One hold as it stands.
     *
     * @param user the held user (lowercase)
     * @param since when it was set (or last extended)
     * @param until when it ends on its own
     * @param origin who set it: this node, or the node that asked
     * @param waiting logins waiting on it now
     */
    public record Hold(String user, Instant since, Instant until, String origin, int waiting) {}

    /** When a user's last hold began: its generation, and the time in milliseconds. */
    private record Began(long generation, long at) {}

    /** A held login that waited {@code routing.hold-timeout}, or found {@code routing.max-held-logins} waiting. */
    public static final class HeldTooLong extends Exception {
        private static final long serialVersionUID = 1L;

        HeldTooLong(String message) {
            super(message, null, false, false);
        }
    }

    private final HoldsConfig config;
    private final Clock clock;
    private final Metrics metrics;
    private final LongSupplier revision;
    private final Map<String, HoldEntry> holds = new ConcurrentHashMap<>();
    private final Map<String, Began> recent = new ConcurrentHashMap<>();
    private final AtomicLong generation = new AtomicLong();
    private final AtomicInteger waiting = new AtomicInteger();

    /**
     * @param clock the time of hold ends and of waits (a fake one in tests, with an embedded event loop's time)
     * @param revision the routing revision in force on this node
     */
    public Holds(HoldsConfig config, Clock clock, Metrics metrics, LongSupplier revision) {
        this.config = config;
        this.clock = clock;
        this.metrics = metrics;
        this.revision = revision;
        metrics.heldLogins(waiting::get);
    }

    public HoldsConfig config() {
        return config;
    }

    static String key(String user) {
        return user.toLowerCase(Locale.ROOT);
    }

    /** Holds {@code user}'s new logins for {@code timeout} from now; a hold already set is extended (or shortened). */
    public synchronized Hold hold(String user, Duration timeout, String origin) {
        String k = key(user);
        Instant now = clock.instant();
        recent.values().removeIf(r -> r.at() < now.toEpochMilli() - RECENT.toMillis());
        // the hold is in the map before the generation moves: a login that reads the new generation sees the hold
        long g = generation.get() + 1;
        HoldEntry e = holds.computeIfAbsent(k, u -> new HoldEntry(this, u));
        e.set(now, now.plus(timeout), origin);
        recent.put(k, new Began(g, now.toEpochMilli()));
        generation.set(g);
        log.info(
                "hold: new logins of {} wait (each at most {}) until released or {}",
                k,
                config.holdTimeout(),
                e.until());
        return e.view();
    }

    /**
     * Releases {@code user}'s hold: waiting logins go on now, or once this node's routing revision reaches {@code
     * minRevision}.
     *
     * @return false when the user was not held
     */
    public boolean release(String user, long minRevision) {
        HoldEntry e = holds.get(key(user));
        if (e == null) {
            return false;
        }
        if (revision.getAsLong() >= minRevision) {
            end(e, "released");
        } else {
            log.info("hold of {}: released, waiting for routing revision {}", e.user(), minRevision);
            e.releaseAt(minRevision);
        }
        return true;
    }

    /** The routing revision in force moved: releases that waited for it take effect. */
    public void routingChanged(long newRevision) {
        for (HoldEntry e : holds.values()) {
            if (e.releaseAt() >= 0 && newRevision >= e.releaseAt()) {
                end(e, "released");
            }
        }
    }

    /** The holds in force, by user. */
    public List<Hold> holds() {
        List<Hold> list = new ArrayList<>();
        for (HoldEntry e : holds.values()) {
            if (expired(e)) {
                end(e, "expired");
            } else {
                list.add(e.view());
            }
        }
        list.sort(Comparator.comparing(Hold::user));
        return list;
    }

    /** Counts every hold ever set: read it before {@link #await}, pass it to {@link #heldSince} later. */
    public long generation() {
        return generation.get();
    }

    /** Whether a hold of {@code user} began after {@code generation} was read. */
    public boolean heldSince(String user, long generation) {
        Began r = recent.get(key(user));
        return r != null && r.generation() > generation;
    }

    /**
     * Waits while {@code user} is held: null at once when not held (no allocation on that path), else a future on
     * {@code loop} that succeeds when the hold ends and fails with {@link HeldTooLong} at the bound.
     */
    public Future<Void> await(String user, EventLoop loop) {
        if (holds.isEmpty()) {
            return null;
        }
        HoldEntry e = holds.get(key(user));
        if (e == null) {
            return null;
        }
        if (expired(e)) {
            end(e, "expired");
            return null;
        }
        Promise<Void> promise = loop.newPromise();
        if (waiting.incrementAndGet() > config.maxHeldLogins()) {
            waiting.decrementAndGet();
            metrics.holdWait("refused", 0);
            return promise.setFailure(new HeldTooLong("too many held logins (" + config.maxHeldLogins() + ")"));
        }
        HeldLogin w = new HeldLogin(this, e, promise, loop, clock.millis());
        if (!e.add(w)) {
            w.finish("released"); // it ended in between
        } else {
            w.arm();
        }
        return promise;
    }

    Clock clock() {
        return clock;
    }

    boolean expired(HoldEntry e) {
        return !clock.instant().isBefore(e.until());
    }

    /** Ends a hold: out of the table, and each of its waiting logins goes on. */
    void end(HoldEntry e, String how) {
        List<HeldLogin> released;
        synchronized (this) {
            // an expiry seen just before a hold() extended it ends nothing
            if ((how.equals("expired") && !expired(e)) || !holds.remove(e.user(), e)) {
                return;
            }
            released = e.close();
        }
        // outside the lock: a released login goes on at once when this runs on its event loop
        log.info("hold of {} {}: {} waiting logins go on", e.user(), how, released.size());
        released.forEach(w -> w.finish(how));
    }

    void waited(String outcome, long millis) {
        waiting.decrementAndGet();
        metrics.holdWait(outcome, millis * 1_000_000L);
    }
}
