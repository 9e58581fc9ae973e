package dev.postern.proxy.relay;

import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import java.util.List;

/**
 * Splices a session's client and backend channels once the protocol phase is over. The caller has already removed
 * its protocol handlers (or names the ones to remove); afterwards bytes flow both ways untouched.
 */
public final class Relay {
    /** Handler name of the relay on both channels. */
    public static final String HANDLER = "relay";

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
        client.config().setAutoRead(backend.isWritable());
        backend.config().setAutoRead(client.isWritable());
        if (backend.isWritable()) {
            client.read();
        }
        if (client.isWritable()) {
            backend.read();
        }
    }

    private static void addLast(ChannelPipeline pipeline, RelayHandler handler) {
        pipeline.addLast(HANDLER, handler);
    }
}
