package dev.postern.proxy.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The timeout in virtual time, on an embedded channel's event loop. */
class PreAuthPhaseTest {
    private final MockTicker ticker = Ticker.newMockTicker();
    private final EmbeddedChannel ch = EmbeddedChannel.builder().ticker(ticker).build();
    private int timeouts;
    private final PreAuthPhase phase = new PreAuthPhase(Duration.ofSeconds(2), () -> timeouts++);

    @AfterEach
    void close() {
        ch.finishAndReleaseAll();
    }

    private void advance(long millis) {
        ticker.advance(millis, TimeUnit.MILLISECONDS);
        ch.runPendingTasks();
    }

    @Test
    void theTimeoutFiresOnceItsTimeHasCome() {
        phase.startTimeout(ch.eventLoop());
        advance(1999);
        assertThat(timeouts).isZero();
        advance(1);
        assertThat(timeouts).isOne();
        assertThat(phase.isOver())
                .as("the timeout reports, the handler decides")
                .isFalse();
    }

    @Test
    void startingAgainReplacesTheArmedTimeout() {
        phase.startTimeout(ch.eventLoop());
        advance(1500);
        phase.startTimeout(ch.eventLoop());
        advance(1500);
        assertThat(timeouts).isZero();
        advance(500);
        assertThat(timeouts).isOne();
    }

    @Test
    void aStoppedTimeoutStaysQuietUntilStartedAgain() {
        phase.stopTimeout();
        phase.startTimeout(ch.eventLoop());
        phase.stopTimeout();
        advance(5000);
        assertThat(timeouts).isZero();
        assertThat(phase.isOver()).isFalse();
    }

    @Test
    void endingThePhaseStopsTheTimeout() {
        phase.startTimeout(ch.eventLoop());
        phase.end();
        advance(5000);
        assertThat(timeouts).isZero();
        assertThat(phase.isOver()).isTrue();
    }
}
