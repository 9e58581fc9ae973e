package dev.postern.proxy.hold;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One login waiting on a {@link HoldEntry}: a timer on the session's event loop fires at the earlier of the wait's
 * bound and the hold's end, and finishes it (failed, or released by the expiry); a release finishes it sooner.
 */
final class HeldLogin {
    private final Holds holds;
    private final HoldEntry entry;
    private final Promise<Void> promise;
    private final EventLoop loop;
    private final long started;
    private ScheduledFuture<?> timer;
    private boolean done;

    HeldLogin(Holds holds, HoldEntry entry, Promise<Void> promise, EventLoop loop, long started) {
        this.holds = holds;
        this.entry = entry;
        this.promise = promise;
        this.loop = loop;
        this.started = started;
    }

    /** Sets the timer: to the wait's bound, or sooner to the hold's end (which may have moved since the last one). */
    void arm() {
        long now = holds.clock().millis();
        long bound = started + holds.config().holdTimeout().toMillis();
        long at = Math.min(bound, entry.until().toEpochMilli());
        ScheduledFuture<?> next = loop.schedule(this::due, Math.max(0, at - now), TimeUnit.MILLISECONDS);
        synchronized (this) {
            timer = next;
            if (done) {
                next.cancel(false);
            }
        }
    }

    private void due() {
        if (holds.expired(entry)) {
            holds.end(entry, "expired"); // finishes this login too, unless a hold() extended it just now
        }
        if (isDone()) {
            return;
        }
        if (holds.clock().millis() - started >= holds.config().holdTimeout().toMillis()) {
            entry.remove(this);
            fail();
        } else {
            arm(); // the hold was extended: wait on, up to the bound
        }
    }

    private synchronized boolean isDone() {
        return done;
    }

    /** The hold ended ({@code how}: released or expired): the login goes on. */
    void finish(String how) {
        if (end()) {
            holds.waited(how, holds.clock().millis() - started);
            promise.trySuccess(null);
        }
    }

    private void fail() {
        if (end()) {
            long waited = holds.clock().millis() - started;
            holds.waited("timeout", waited);
            promise.tryFailure(new Holds.HeldTooLong("held for " + waited + " ms, the routing.hold-timeout"));
        }
    }

    private synchronized boolean end() {
        if (done) {
            return false;
        }
        done = true;
        if (timer != null) {
            timer.cancel(false);
        }
        return true;
    }
}
