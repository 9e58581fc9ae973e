package dev.postern.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.testkit.FakeTicker;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The idle timer of client channels: fires once after the timeout without traffic, and not while traffic flows. The
 * timer's clock and the channel's scheduler are one fake ticker, so the tests move time instead of waiting for it.
 */
class IdleTimerTest {
    private static final Duration STEP = Duration.ofMillis(10);

    private final FakeTicker ticker = new FakeTicker();
    private final AtomicInteger idleEvents = new AtomicInteger();

    private EmbeddedChannel channel(long timeoutMillis) {
        return EmbeddedChannel.builder()
                .ticker(ticker)
                .handlers(new IdleTimer(timeoutMillis, ticker), new ChannelInboundHandlerAdapter() {
                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt == IdleStateEvent.ALL_IDLE_STATE_EVENT) {
                            idleEvents.incrementAndGet();
                        }
                    }
                })
                .build();
    }

    /** Moves the clock by {@code d} in steps of 10 ms, with {@code traffic} before each step, running what is due. */
    private void runFor(EmbeddedChannel ch, Duration d, Runnable traffic) {
        for (Duration t = Duration.ZERO; t.compareTo(d) < 0; t = t.plus(STEP)) {
            traffic.run();
            advance(ch, STEP);
        }
    }

    private void advance(EmbeddedChannel ch, Duration d) {
        ticker.advance(d);
        ch.runScheduledPendingTasks();
    }

    @Test
    void aSilentChannelGetsOneIdleEventAfterTheTimeout() {
        EmbeddedChannel ch = channel(100);

        advance(ch, Duration.ofMillis(99));
        assertThat(idleEvents).as("not before the timeout").hasValue(0);
        advance(ch, Duration.ofMillis(1));
        assertThat(idleEvents).as("at the timeout").hasValue(1);

        runFor(ch, Duration.ofMillis(300), () -> {});
        assertThat(idleEvents).as("fired once, not re-armed").hasValue(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void readsKeepTheChannelFromBeingIdle() {
        EmbeddedChannel ch = channel(100);

        runFor(ch, Duration.ofMillis(400), () -> {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {'x'}));
            ch.pipeline().fireChannelReadComplete();
            ch.releaseInbound();
        });

        assertThat(idleEvents).hasValue(0);
        advance(ch, Duration.ofMillis(100));
        assertThat(idleEvents).as("idle event once the reads stop").hasValue(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void flushedWritesKeepTheChannelFromBeingIdle() {
        EmbeddedChannel ch = channel(100);

        runFor(ch, Duration.ofMillis(400), () -> {
            ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'y'}));
            ch.releaseOutbound();
        });

        assertThat(idleEvents).hasValue(0);
        advance(ch, Duration.ofMillis(100));
        assertThat(idleEvents).as("idle event once the writes stop").hasValue(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void theTimerIsReArmedForTheRestOfThePeriodNotAFullOne() {
        EmbeddedChannel ch = channel(100);

        advance(ch, Duration.ofMillis(60));
        ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'z'}));
        ch.releaseOutbound();
        advance(ch, Duration.ofMillis(40));
        assertThat(idleEvents).as("traffic 40 ms ago").hasValue(0);
        advance(ch, Duration.ofMillis(59));
        assertThat(idleEvents).hasValue(0);
        advance(ch, Duration.ofMillis(1));
        assertThat(idleEvents).as("100 ms after the write").hasValue(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void aClosedChannelNeverFires() {
        EmbeddedChannel ch = channel(50);
        ch.close();

        runFor(ch, Duration.ofMillis(200), () -> {});

        assertThat(idleEvents).hasValue(0);
    }

    @Test
    void zeroMeansNoTimeout() {
        EmbeddedChannel ch = channel(0);

        runFor(ch, Duration.ofMillis(150), () -> {});

        assertThat(idleEvents).hasValue(0);
        assertThat(ch.runScheduledPendingTasks()).as("no timer scheduled").isEqualTo(-1);
        ch.finishAndReleaseAll();
    }

    @Test
    void theDefaultClockIsTheSystemsNanoTime() {
        EmbeddedChannel ch = new EmbeddedChannel(new IdleTimer(TimeUnit.HOURS.toMillis(1)));

        assertThat(ch.runScheduledPendingTasks())
                .as("the timer waits for its hour")
                .isPositive();
        assertThat(idleEvents).hasValue(0);
        ch.finishAndReleaseAll();
    }
}
