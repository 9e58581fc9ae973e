package dev.postern.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.testkit.Await;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** The idle timer of client channels: fires once after the timeout without traffic, and not while traffic flows. */
class IdleTimerTest {
    private final AtomicInteger idleEvents = new AtomicInteger();

    private EmbeddedChannel channel(long timeoutMillis) {
        return new EmbeddedChannel(new IdleTimer(timeoutMillis), new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt == IdleStateEvent.ALL_IDLE_STATE_EVENT) {
                    idleEvents.incrementAndGet();
                }
            }
        });
    }

    private void runFor(EmbeddedChannel ch, Duration d, Runnable traffic) {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) {
            traffic.run();
            ch.runScheduledPendingTasks();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // paces the traffic; nothing waits on it
        }
    }

    @Test
    void aSilentChannelGetsOneIdleEventAfterTheTimeout() {
        EmbeddedChannel ch = channel(100);
        long start = System.nanoTime();

        Await.until("idle event", Duration.ofSeconds(5), () -> {
            ch.runScheduledPendingTasks();
            return idleEvents.get() == 1;
        });

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(100));
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
        Await.until("idle event once the reads stop", Duration.ofSeconds(5), () -> {
            ch.runScheduledPendingTasks();
            return idleEvents.get() == 1;
        });
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
        ch.finishAndReleaseAll();
    }
}
