package dev.postern.proxy.relay;

import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.transport.HandlerNames;
import dev.postern.proxy.transport.PreAuthSlots;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.DuplexChannel;
import java.util.List;

/**
 * Splices a session's client and backend channels once the protocol phase is over. The caller has already removed
 * its protocol handlers (or names the ones to remove); afterwards bytes flow both ways untouched.
 */
public final class Relay {

    private Relay() {}

    /**
     * Installs the relay pair and starts reading on both sides. Must run on the session's event loop, which is also
     * the backend channel's.
     *
     * @param session the session whose client and backend channels are joined
     * @param pendingFromClient bytes already read from the client that belong to the backend (written first)
     */
    public static void splice(Session session, List<ByteBuf> pendingFromClient) {
        Channel client = session.client();
        Channel backend = session.backend();
        // logged in (or a tcp listener's session): no longer a pre-auth connection of its address
        PreAuthSlots.release(client);

        RelayHandler.HalfClose halfClose = new RelayHandler.HalfClose();
        addLast(client.pipeline(), new RelayHandler(session, backend, true, halfClose));
        addLast(backend.pipeline(), new RelayHandler(session, client, false, halfClose));

        for (ByteBuf buf : pendingFromClient) {
            session.addBytesFromClient(buf.readableBytes());
            backend.write(buf, backend.voidPromise());
        }
        backend.flush();

        if (!client.isActive() || !backend.isActive()) {
            // one side went away while we were getting ready: the relay handlers' channelInactive won't fire now
            session.closeAfterFlush(client.isActive() ? CloseReason.BACKEND_CLOSED : CloseReason.CLIENT_CLOSED, null);
            return;
        }
        // each side reads only while the other can take more
        readWhile(client, backend.isWritable());
        readWhile(backend, client.isWritable());
    }

    /**
     * True when {@code channel} will read nothing more (its peer half-closed). Reading must not be switched on again
     * then: Netty 4.2's epoll transport has removed the socket from epoll by that time, and asking it to read fails
     * ({@code epoll_ctl ... No such file or directory}) and closes the channel, dropping what it still has to send.
     */
    public static boolean isInputShutdown(Channel channel) {
        return channel instanceof DuplexChannel duplex && duplex.isInputShutdown();
    }

    /** Turns auto-read on or off and asks for a read when on, unless the channel's input is shut down. */
    static void readWhile(Channel channel, boolean on) {
        if (isInputShutdown(channel)) {
            return;
        }
        channel.config().setAutoRead(on);
        if (on) {
            channel.read();
        }
    }

    private static void addLast(ChannelPipeline pipeline, RelayHandler handler) {
        pipeline.addLast(HandlerNames.RELAY, handler);
    }
}
