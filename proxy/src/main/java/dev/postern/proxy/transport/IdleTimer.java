package dev.postern.proxy.transport;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Fires {@link IdleStateEvent#ALL_IDLE_STATE_EVENT} once when a channel has neither read nor written anything for
 * the timeout, like Netty's {@code IdleStateHandler(0, 0, timeout)}, for less per message: the clock is read once per
 * read batch and once per flush, and writes keep their promises as they are ({@code IdleStateHandler} turns every
 * void promise of the relay into a real one and adds a listener to it). One timer per channel, re-armed for the rest
 * of the period when it finds traffic. A write counts when it is flushed, not when it completes: the relay stops
 * writing to a peer that does not read (back-pressure), so a stalled peer still times out.
 *
 * <p>The activity clock is injected; it must be the clock of the channel's event loop, whose scheduler runs the
 * timer (tests hand both the same fake ticker and move time without waiting).
 */
public final class IdleTimer extends ChannelDuplexHandler {
    private final long timeoutNanos;
    private final LongSupplier nanoClock;
    private long lastActivity;
    private Future<?> timer;

    /** @param timeoutMillis the idle timeout; 0 or less means none */
    public IdleTimer(long timeoutMillis) {
        this(timeoutMillis, System::nanoTime);
    }

    /**
     * @param timeoutMillis the idle timeout; 0 or less means none
     * @param nanoClock reads the time in nanoseconds, on the same clock as the event loop's scheduler
     */
    public IdleTimer(long timeoutMillis, LongSupplier nanoClock) {
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(0, timeoutMillis));
        this.nanoClock = nanoClock;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
            start(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        lastActivity = nanoClock.getAsLong();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        lastActivity = nanoClock.getAsLong();
        ctx.flush();
    }

    private void start(ChannelHandlerContext ctx) {
        if (timeoutNanos == 0 || timer != null) {
            return;
        }
        lastActivity = nanoClock.getAsLong();
        timer = ctx.executor().schedule(() -> check(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
    }

    private void stop() {
        if (timer != null) {
            timer.cancel(false);
        }
        timer = null;
    }

    private void check(ChannelHandlerContext ctx) {
        if (timer == null || !ctx.channel().isOpen()) {
            return;
        }
        long idle = nanoClock.getAsLong() - lastActivity;
        if (idle < timeoutNanos) {
            timer = ctx.executor().schedule(() -> check(ctx), timeoutNanos - idle, TimeUnit.NANOSECONDS);
            return;
        }
        timer = null;
        ctx.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
    }
}
