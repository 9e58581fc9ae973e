package dev.postern.bench.load;

import dev.postern.bench.load.ReplyDecoder.ReplyLine;
import dev.postern.bench.load.Script.Expect;
import dev.postern.bench.load.Script.Step;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Runs one {@link Script} on one connection and checks every reply: a wrong tag, a NO/BAD/-ERR/unexpected code, a
 * connection closed before the script's end, a TLS failure or a step slower than the timeout fail the session, and
 * the first such failure is reported to the {@link Listener} with a one-line description.
 */
final class ScriptClient extends ChannelInboundHandlerAdapter {
    static final String TLS = "tls";

    /** What the owner of a session hears. All calls come from the connection's event loop. */
    interface Listener {
        /**
         * The last step succeeded. Return true to run the steps from {@link Script#repeatFrom()} again; false leaves
         * the connection open and idle (the owner closes it when it wants).
         */
        boolean scriptDone(ScriptClient client);

        /** A {@link Step#timed()} step succeeded after {@code nanos}, with {@code literalBytes} of literal data. */
        void timedStep(long nanos, long literalBytes);

        /** The session failed; the connection is being closed. Called at most once. */
        void failed(ScriptClient client, String error);

        /** The connection closed (after success or failure). */
        void closed(ScriptClient client);
    }

    private final Script script;
    private final SslContext sslContext;
    private final Duration timeout;
    private final Listener listener;
    private Channel channel;
    private int index;
    private boolean done;
    private boolean failed;
    private long stepStart;
    private long literalBytes;
    private ScheduledFuture<?> timer;

    ScriptClient(Script script, SslContext sslContext, Duration timeout, Listener listener) {
        this.script = script;
        this.sslContext = sslContext;
        this.timeout = timeout;
        this.listener = listener;
    }

    Channel channel() {
        return channel;
    }

    /** True once the last step succeeded. */
    boolean isDone() {
        return done;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        begin(ctx);
        ctx.fireChannelActive();
    }

    private void begin(ChannelHandlerContext ctx) {
        Step step = script.steps().get(index);
        literalBytes = 0;
        stepStart = System.nanoTime();
        armTimer(ctx, step);
        if (step.send() != null) {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(step.send()));
        }
    }

    private void armTimer(ChannelHandlerContext ctx, Step step) {
        if (timer != null) {
            timer.cancel(false);
        }
        timer = ctx.executor()
                .schedule(
                        () -> fail(ctx, "timeout after " + timeout.toMillis() + " ms waiting for " + step.name()),
                        timeout.toMillis(),
                        TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (!(msg instanceof ReplyLine line) || failed || done) {
                if (!failed && !(msg instanceof ReplyLine)) {
                    fail(ctx, "unexpected message " + msg.getClass().getSimpleName());
                } else if (done
                        && !failed
                        && msg instanceof ReplyLine l
                        && !l.text().startsWith("*")) {
                    fail(ctx, "unexpected line after the script: " + shorten(l.text()));
                }
                return;
            }
            onLine(ctx, line);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onLine(ChannelHandlerContext ctx, ReplyLine line) {
        Step step = script.steps().get(index);
        literalBytes += line.literalBytes();
        String text = line.text();
        Expect expect = step.expect();
        Boolean verdict = verdict(expect, text);
        if (verdict == null) {
            return; // more lines to come
        }
        if (!verdict) {
            fail(ctx, step.name() + ": " + shorten(text));
            return;
        }
        if (step.timed()) {
            listener.timedStep(System.nanoTime() - stepStart, literalBytes);
        }
        if (step.startTls()) {
            startTls(ctx);
            return;
        }
        next(ctx);
    }

    /** True: the reply is complete and right; false: wrong; null: not complete yet. */
    static Boolean verdict(Expect expect, String text) {
        switch (expect.kind()) {
            case IMAP_GREETING:
                return text.startsWith("* OK");
            case IMAP_TAGGED_OK:
                if (text.startsWith("* ")) {
                    return null;
                }
                return text.startsWith(expect.tag() + " OK");
            case IMAP_CONTINUATION:
                if (text.startsWith("* ")) {
                    return null;
                }
                return text.startsWith("+");
            case POP3_OK:
                return text.startsWith("+OK");
            case SMTP_CODE:
                if (text.length() < 3 || !text.startsWith(Integer.toString(expect.code()))) {
                    return false;
                }
                return text.length() > 3 && text.charAt(3) == '-' ? null : Boolean.TRUE;
            default:
                throw new IllegalStateException(expect.kind().toString());
        }
    }

    private void next(ChannelHandlerContext ctx) {
        index++;
        if (index == script.steps().size()) {
            if (timer != null) {
                timer.cancel(false);
            }
            if (script.repeatFrom() >= 0 && listener.scriptDone(this)) {
                index = script.repeatFrom();
            } else {
                done = true;
                if (script.repeatFrom() < 0) {
                    listener.scriptDone(this);
                }
                return;
            }
        }
        begin(ctx);
    }

    private void startTls(ChannelHandlerContext ctx) {
        if (sslContext == null) {
            fail(ctx, "STARTTLS without a TLS context");
            return;
        }
        ctx.pipeline().addFirst(TLS, sslContext.newHandler(ctx.alloc()));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent hs) {
            if (!hs.isSuccess()) {
                fail(ctx, "TLS handshake: " + hs.cause());
            } else if (index > 0 && script.steps().get(index).startTls()) {
                next(ctx);
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
        if (!done && !failed) {
            fail(
                    ctx,
                    "connection closed by the server waiting for "
                            + script.steps().get(index).name() + (inLiteral(ctx) ? " (in a literal)" : ""));
        }
        listener.closed(this);
        ctx.fireChannelInactive();
    }

    private static boolean inLiteral(ChannelHandlerContext ctx) {
        ReplyDecoder decoder = ctx.pipeline().get(ReplyDecoder.class);
        return decoder != null && decoder.inLiteral();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause.getCause() != null ? cause.getCause() : cause;
        fail(ctx, root.getClass().getSimpleName() + ": " + root.getMessage());
    }

    private void fail(ChannelHandlerContext ctx, String error) {
        if (failed) {
            return;
        }
        failed = true;
        if (timer != null) {
            timer.cancel(false);
        }
        listener.failed(this, error);
        ctx.close();
    }

    private static String shorten(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
