package dev.postern.proxy.health;

import dev.postern.config.Protocol;
import dev.postern.proxy.routing.CheckFailure;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;

/**
 * The cheap command a {@link LoginCheck} runs once logged in, and the goodbye after it: IMAP {@code SELECT INBOX}
 * (the mail store answers, not only the auth service), POP3 {@code STAT}, SMTP {@code RSET}. Sits behind the login
 * dialogue, which passes the backend's lines on once the login is done.
 */
final class ProbeCommand extends ChannelInboundHandlerAdapter {
    private static final int SHOWN = 120;

    private final Protocol protocol;
    private final Promise<Void> result;
    private ChannelHandlerContext ctx;
    private boolean started;

    private ProbeCommand(Protocol protocol, Promise<Void> result) {
        this.protocol = protocol;
        this.result = result;
    }

    static ProbeCommand of(Protocol protocol, Promise<Void> result) {
        return new ProbeCommand(protocol, result);
    }

    /** The command, as a failure message names it. */
    String name() {
        return switch (protocol) {
            case IMAP -> "SELECT INBOX";
            case POP3 -> "STAT";
            default -> "RSET";
        };
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** The login is done: run the command. */
    void start() {
        started = true;
        write(protocol == Protocol.IMAP ? "H1 " + name() : name());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (started && !result.isDone() && msg instanceof String line) {
                reply(line);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void reply(String line) {
        switch (protocol) {
            case IMAP -> {
                if (line.startsWith("* BYE")) {
                    fail(CheckFailure.Reason.CLOSED, "backend said BYE after login: " + shown(line));
                } else if (line.startsWith("H1 ")) {
                    judge(line.startsWith("H1 OK"), line.substring(3), "H2 LOGOUT");
                }
                // untagged data of SELECT (EXISTS, FLAGS, ...) is the answer's body
            }
            case POP3 -> judge(line.startsWith("+OK"), line, "QUIT");
            default -> {
                if (line.length() >= 4 && line.charAt(3) == '-') {
                    return; // a multi-line reply: wait for its last line
                }
                judge(line.startsWith("250"), line, "QUIT");
            }
        }
    }

    private void judge(boolean ok, String reply, String goodbye) {
        if (!ok) {
            fail(CheckFailure.Reason.COMMAND, name() + " refused: " + shown(reply));
            return;
        }
        result.trySuccess(null);
        write(goodbye).addListener(ChannelFutureListener.CLOSE);
    }

    private void fail(CheckFailure.Reason reason, String message) {
        result.tryFailure(new CheckFailure(reason, message));
    }

    private ChannelFuture write(String line) {
        ByteBuf buf = ctx.alloc().buffer(line.length() + 2);
        ByteBufUtil.writeAscii(buf, line);
        buf.writeByte('\r').writeByte('\n');
        return ctx.writeAndFlush(buf);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(CheckFailure.Reason.CLOSED, started ? "backend closed the connection after login" : "backend closed");
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(CheckFailure.Reason.PROTOCOL, "backend error: " + cause.getMessage());
        ctx.close();
    }

    private static String shown(String line) {
        return line.length() <= SHOWN ? line : line.substring(0, SHOWN) + "...";
    }
}
