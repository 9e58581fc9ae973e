package dev.postern.proxy.hold;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.HoldsConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.testkit.MovableClock;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Holds in virtual time: the fake clock and the embedded event loop's timers move together. */
class HoldsTest {
    private final MovableClock clock = new MovableClock(Instant.parse("2026-06-01T12:00:00Z"));
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final AtomicLong revision = new AtomicLong(1);
    private final List<String> waits = new ArrayList<>();
    private IntSupplier held;
    private final Metrics metrics = new Metrics() {
        @Override
        public void heldLogins(IntSupplier source) {
            held = source;
        }

        @Override
        public void holdWait(String outcome, long nanos) {
            waits.add(outcome + " " + nanos / 1_000_000 + "ms");
        }
    };
    private Holds holds = holds(new HoldsConfig(Duration.ofSeconds(30), 100));

    private Holds holds(HoldsConfig config) {
        return new Holds(config, clock, metrics, revision::get);
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private void advance(Duration d) {
        clock.advance(d);
        channel.advanceTimeBy(d.toMillis(), TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    private Future<Void> await(String user) {
        return holds.await(user, channel.eventLoop());
    }

    @Test
    void aUserWhoIsNotHeldGoesOnAtOnce() {
        holds.hold("bob@example.com", Duration.ofMinutes(5), "local");

        assertThat(await("alice@example.com")).isNull();
    }

    @Test
    void aHeldLoginWaitsUntilTheReleaseAndGoesOn() {
        holds.hold("Alice@Example.com", Duration.ofMinutes(5), "local");
        Future<Void> wait = await("alice@example.com");
        advance(Duration.ofSeconds(2));

        assertThat(wait.isDone()).isFalse();
        assertThat(held.getAsInt()).isEqualTo(1);
        assertThat(holds.holds()).singleElement().satisfies(h -> {
            assertThat(h.user()).isEqualTo("alice@example.com");
            assertThat(h.waiting()).isEqualTo(1);
        });

        assertThat(holds.release("ALICE@example.com", 0)).isTrue();
        channel.runPendingTasks();

        assertThat(wait.isSuccess()).isTrue();
        assertThat(held.getAsInt()).isZero();
        assertThat(holds.holds()).isEmpty();
        assertThat(waits).containsExactly("released 2000ms");
        assertThat(await("alice@example.com")).isNull();
    }

    @Test
    void aLoginHeldForTheHoldTimeoutFailsTemporarily() {
        holds.hold("alice@example.com", Duration.ofMinutes(5), "local");
        Future<Void> wait = await("alice@example.com");

        advance(Duration.ofSeconds(29));
        assertThat(wait.isDone()).isFalse();
        advance(Duration.ofSeconds(1));

        assertThat(wait.isDone()).isTrue();
        assertThat(wait.cause()).isInstanceOf(Holds.HeldTooLong.class);
        assertThat(waits).containsExactly("timeout 30000ms");
        assertThat(held.getAsInt()).isZero();
        // the hold itself stays: the next login waits again
        assertThat(holds.holds()).singleElement().satisfies(h -> assertThat(h.waiting())
                .isZero());
    }

    @Test
    void aHoldEndsAtItsOwnTimeoutAndItsLoginsGoOn() {
        holds.hold("alice@example.com", Duration.ofSeconds(10), "local");
        Future<Void> wait = await("alice@example.com");

        advance(Duration.ofSeconds(10));

        assertThat(wait.isSuccess()).isTrue();
        assertThat(waits).containsExactly("expired 10000ms");
        assertThat(holds.holds()).isEmpty();
        assertThat(await("alice@example.com")).isNull();
    }

    @Test
    void anExpiredHoldWithoutWaitersHoldsNothing() {
        holds.hold("alice@example.com", Duration.ofSeconds(10), "local");
        advance(Duration.ofSeconds(11));

        assertThat(await("alice@example.com")).isNull();
        assertThat(holds.holds()).isEmpty();
    }

    @Test
    void anExtendedHoldKeepsItsLoginsWaitingUpToTheBound() {
        holds.hold("alice@example.com", Duration.ofSeconds(5), "local");
        Future<Void> wait = await("alice@example.com");
        advance(Duration.ofSeconds(2));
        holds.hold("alice@example.com", Duration.ofMinutes(5), "local");

        advance(Duration.ofSeconds(5));
        assertThat(wait.isDone()).isFalse();
        advance(Duration.ofSeconds(23));

        assertThat(wait.cause()).isInstanceOf(Holds.HeldTooLong.class);
    }

    @Test
    void pastTheCapOneMoreHeldLoginFailsAtOnce() {
        holds = holds(new HoldsConfig(Duration.ofSeconds(30), 2));
        holds.hold("alice@example.com", Duration.ofMinutes(5), "local");
        Future<Void> first = await("alice@example.com");
        Future<Void> second = await("alice@example.com");
        Future<Void> third = await("alice@example.com");

        assertThat(third.isDone()).isTrue();
        assertThat(third.cause()).isInstanceOf(Holds.HeldTooLong.class).hasMessageContaining("too many held logins");
        assertThat(first.isDone()).isFalse();
        assertThat(second.isDone()).isFalse();
        assertThat(held.getAsInt()).isEqualTo(2);

        holds.release("alice@example.com", 0);
        channel.runPendingTasks();
        assertThat(first.isSuccess()).isTrue();
        assertThat(second.isSuccess()).isTrue();
        assertThat(waits).containsExactly("refused 0ms", "released 0ms", "released 0ms");
    }

    @Test
    void aReleaseWaitsForTheRoutingRevisionOfTheMove() {
        holds.hold("alice@example.com", Duration.ofMinutes(5), "node1");
        Future<Void> wait = await("alice@example.com");

        assertThat(holds.release("alice@example.com", 3)).isTrue();
        channel.runPendingTasks();
        assertThat(wait.isDone()).isFalse();
        holds.routingChanged(2);
        channel.runPendingTasks();
        assertThat(wait.isDone()).isFalse();

        revision.set(3);
        holds.routingChanged(3);
        channel.runPendingTasks();
        assertThat(wait.isSuccess()).isTrue();
    }

    @Test
    void releasingAUserWhoIsNotHeldSaysSo() {
        assertThat(holds.release("nobody@example.com", 0)).isFalse();
    }

    @Test
    void aLoginPastTheHoldSeesAHoldThatBeganAfterIt() {
        long before = holds.generation();
        assertThat(await("alice@example.com")).isNull();

        holds.hold("alice@example.com", Duration.ofMinutes(5), "local");
        holds.release("alice@example.com", 0);

        assertThat(holds.heldSince("Alice@example.com", before)).isTrue();
        assertThat(holds.heldSince("bob@example.com", before)).isFalse();
        assertThat(holds.heldSince("alice@example.com", holds.generation())).isFalse();
    }
}
