package dev.postern.proxy.relay;

import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One half of a relayed pair: whatever this channel reads is written to the peer. Writes happen in
 * {@code channelRead} and are flushed once per read batch in {@code channelReadComplete}. When the peer's outbound
 * buffer passes its high water mark, this channel stops reading until the peer drains (and vice versa), so a slow
 * reader on one side never makes Postern buffer without bound.
 *
 * <p>Both channels of a pair live on the same event loop, so the handler needs no synchronisation.
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RelayHandler.class);

    private final Session session;
    private final Channel peer;
    private final boolean clientSide;
    private final HalfClose halfClose;

    RelayHandler(Session session, Channel peer, boolean clientSide, HalfClose halfClose) {
        this.session = session;
        this.peer = peer;
        this.clientSide = clientSide;
        this.halfClose = halfClose;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!peer.isActive()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        long n = msg instanceof ByteBuf buf
                ? buf.readableBytes()
                : msg instanceof ByteBufHolder holder ? holder.content().readableBytes() : 0;
        if (clientSide) {
            session.addBytesFromClient(n);
        } else {
            session.addBytesToClient(n);
        }
        // ownership passes to the peer's outbound buffer; Netty releases it after the write (or on failure)
        peer.write(msg, peer.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // this channel's outbound buffer is fed by the peer's reads: pause or resume them
        Relay.readWhile(peer, ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent || evt instanceof SslCloseCompletionEvent) {
            inputClosed(ctx);
        } else if (evt instanceof IdleStateEvent) {
            session.close(CloseReason.IDLE_TIMEOUT, null);
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** The remote end of this channel will send nothing more: pass the half-close on to the peer. */
    private void inputClosed(ChannelHandlerContext ctx) {
        if (halfClose.inputClosed(clientSide)) {
            // both directions are finished
            session.closeAfterFlush(clientSide ? CloseReason.CLIENT_CLOSED : CloseReason.BACKEND_CLOSED, null);
            return;
        }
        if (!peer.isActive()) {
            ctx.close();
            return;
        }
        if (peer instanceof DuplexChannel duplex && peer.pipeline().get(SslHandler.class) == null) {
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> duplex.shutdownOutput());
        } else {
            // a TLS peer cannot be half-closed portably: finish it
            session.markClosing(clientSide ? CloseReason.CLIENT_CLOSED : CloseReason.BACKEND_CLOSED, null);
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        session.markClosing(clientSide ? CloseReason.CLIENT_CLOSED : CloseReason.BACKEND_CLOSED, null);
        if (peer.isActive()) {
            // let what is already queued reach the peer, then close it
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException || cause.getCause() instanceof IOException) {
            log.debug("{}: {} I/O error: {}", session, clientSide ? "client" : "backend", cause.toString());
            session.close(clientSide ? CloseReason.CLIENT_ERROR : CloseReason.BACKEND_ERROR, cause.getMessage());
        } else if (cause instanceof io.netty.handler.codec.DecoderException) {
            log.debug("{}: {} decoder error: {}", session, clientSide ? "client" : "backend", cause.toString());
            session.close(clientSide ? CloseReason.CLIENT_ERROR : CloseReason.BACKEND_ERROR, "TLS error");
        } else {
            log.warn("{}: unexpected error in relay", session, cause);
            session.close(CloseReason.INTERNAL_ERROR, cause.getClass().getSimpleName());
        }
    }

    /** Which directions of a pair have been half-closed; shared by the two handlers of a pair. */
    static final class HalfClose {
        private boolean clientInputClosed;
        private boolean backendInputClosed;

        /** Records that one side's input ended; true when both have. */
        boolean inputClosed(boolean clientSide) {
            if (clientSide) {
                clientInputClosed = true;
            } else {
                backendInputClosed = true;
            }
            return clientInputClosed && backendInputClosed;
        }
    }
}
