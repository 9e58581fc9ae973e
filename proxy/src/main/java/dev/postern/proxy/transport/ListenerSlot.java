package dev.postern.proxy.transport;

import dev.postern.config.ListenerConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.WriteBufferWaterMark;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One listener's bound socket and the settings its next connection gets. A reload swaps the settings ({@link #swap})
 * without closing the socket, so no connection is refused in between; a connection keeps the settings it was accepted
 * with for its whole life. {@link #close} stops accepting and leaves the open connections alone.
 */
public final class ListenerSlot {
    private final AtomicReference<ListenerInitializer> current;
    private final Channel channel;
    private final InetSocketAddress address;

    private ListenerSlot(AtomicReference<ListenerInitializer> current, Channel channel) {
        this.current = current;
        this.channel = channel;
        this.address = (InetSocketAddress) channel.localAddress();
    }

    /**
     * Binds {@code address}; waits for the outcome.
     *
     * @throws BindFailure with the operating system's reason when the address cannot be bound
     */
    public static ListenerSlot bind(Transport transport, InetSocketAddress address, ListenerInitializer initializer)
            throws BindFailure {
        AtomicReference<ListenerInitializer> current = new AtomicReference<>(Objects.requireNonNull(initializer));
        ChannelFuture f = transport.bind(address, waterMark(initializer.listener()), new Switch(current));
        f.awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new BindFailure(f.cause());
        }
        return new ListenerSlot(current, f.channel());
    }

    /**
     * Binds this slot's address again with its settings (after {@link #close}, to undo a reload that freed it).
     *
     * @throws BindFailure when the address was taken meanwhile
     */
    public ListenerSlot reopen(Transport transport) throws BindFailure {
        return bind(transport, address, current.get());
    }

    /** New connections get {@code next}'s settings from now on; those already open keep theirs. */
    public void swap(ListenerInitializer next) {
        current.updateAndGet(earlier -> next.countingWith(earlier));
    }

    /** The settings the next connection gets. */
    public ListenerConfig listener() {
        return current.get().listener();
    }

    /** Client connections currently open on this listener. */
    public int connections() {
        return current.get().connections();
    }

    public Channel channel() {
        return channel;
    }

    /** The address it is (or was, once closed) bound to, with the actual port. */
    public InetSocketAddress address() {
        return address;
    }

    /** Stops accepting; the connections already accepted go on until they end. */
    public ChannelFuture close() {
        return channel.close();
    }

    private static WriteBufferWaterMark waterMark(ListenerConfig l) {
        return new WriteBufferWaterMark(l.limits().writeBufferLow(), l.limits().writeBufferHigh());
    }

    /** Why a bind failed: the socket error (its message is the operating system's). */
    public static final class BindFailure extends Exception {
        private static final long serialVersionUID = 1L;

        BindFailure(Throwable cause) {
            super(String.valueOf(cause.getMessage()), cause);
        }
    }

    /** The child handler of the socket: hands each new connection to the initializer current at its accept. */
    @ChannelHandler.Sharable
    private static final class Switch extends ChannelInitializer<Channel> {
        private final AtomicReference<ListenerInitializer> current;

        Switch(AtomicReference<ListenerInitializer> current) {
            this.current = current;
        }

        @Override
        protected void initChannel(Channel ch) {
            ListenerInitializer init = current.get();
            // the water marks are a limit of the listener: a reload may change them for new connections
            ch.config().setWriteBufferWaterMark(waterMark(init.listener()));
            init.initChannel(ch);
        }
    }
}
