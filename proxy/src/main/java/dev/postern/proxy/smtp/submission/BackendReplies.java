package dev.postern.proxy.smtp.submission;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslCloseCompletionEvent;

/**
 * Reads along the backend's replies of a relayed submission session without holding or changing a byte: each final
 * reply line ({@code 250 }, not {@code 250-}) is reported to the {@link MessageGuard} with its first digit, and the
 * backend's going away is reported before the relay closes the client.
 */
final class BackendReplies extends ChannelInboundHandlerAdapter {
    private final MessageGuard guard;
    /** Bytes of the current line seen so far, up to 4 (the code and the separator). */
    private int seen;

    private char digit;
    private boolean continued;

    BackendReplies(MessageGuard guard) {
        this.guard = guard;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            for (int i = buf.readerIndex(); i < buf.writerIndex(); i++) {
                byte b = buf.getByte(i);
                if (b == '\n') {
                    if (seen > 0 && !continued) {
                        guard.reply(digit);
                    }
                    seen = 0;
                    continued = false;
                } else if (seen < 4) {
                    if (seen == 0) {
                        digit = (char) b;
                    } else if (seen == 3) {
                        continued = b == '-';
                    }
                    seen++;
                }
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent || evt instanceof SslCloseCompletionEvent) {
            guard.backendLost();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        guard.backendLost();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        guard.backendLost();
        ctx.fireExceptionCaught(cause);
    }
}
