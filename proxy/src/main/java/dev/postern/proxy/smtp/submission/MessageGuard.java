package dev.postern.proxy.smtp.submission;

import dev.postern.config.SmtpConfig;
import dev.postern.proxy.codec.CommandDecoder;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.smtp.SmtpCommand;
import dev.postern.proxy.smtp.SmtpDecoder;
import dev.postern.proxy.smtp.SmtpInput;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end-of-data rule of a submission session after its login, when everything else is relayed as it comes: the
 * client's bytes pass through the edge's {@link SmtpDecoder} on their way to the backend, so a message ends with
 * {@code CRLF.CRLF} and nothing else, and a bare LF or CR in it is refused or normalized as the listener's
 * {@code data.bare-lf} says. Command lines go on with CRLF endings whatever the client used. No backend ever sees an
 * ambiguous message end (Dovecot 2.3.19's submission service asserts on one and leaves the client without a reply).
 *
 * <p>The decoder switches to message mode when the backend answers a DATA with {@code 3xx}: {@link BackendReplies}
 * watches the backend's replies and pairs them with the commands this guard passed on, in order (RFC 2920). When the
 * backend goes away while the client waits for a reply (or is sending a message), the client gets {@code 421 4.4.2}
 * before the connection closes: never silence, never a {@code 250} the backend did not give.
 */
final class MessageGuard extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(MessageGuard.class);
    static final String DECODER = "message-decoder";
    static final String GUARD = "message-guard";
    static final String REPLIES = "backend-replies";

    private final Session session;
    private final SmtpDecoder decoder;
    private final String hostname;
    /** One entry per command passed on and not answered yet: true for a DATA (whose 354 starts the message). */
    private final ArrayDeque<Boolean> awaiting = new ArrayDeque<>();

    private boolean inMessage;
    private boolean lastChunk;
    private boolean lossReported;

    private MessageGuard(Session session, SmtpDecoder decoder, String hostname) {
        this.session = session;
        this.decoder = decoder;
        this.hostname = hostname;
    }

    /**
     * Puts the guard on both channels of a submission session whose login succeeded, before the hand-over, so bytes
     * the client pipelined after AUTH pass through it too.
     *
     * @param backendHandlers the backend dialogue's handler names, decoder last
     */
    static void install(
            Session session, SmtpConfig smtp, int lineLength, String hostname, List<String> backendHandlers) {
        boolean normalize = smtp.bareLineEndings() == SmtpConfig.BareLineEndings.NORMALIZE;
        SmtpDecoder decoder = new SmtpDecoder(lineLength, normalize);
        MessageGuard guard = new MessageGuard(session, decoder, hostname);
        session.client()
                .pipeline()
                .addAfter(HandlerNames.DECODER, DECODER, decoder)
                .addAfter(DECODER, GUARD, guard);
        String backendDecoder = backendHandlers.get(backendHandlers.size() - 1);
        session.backend().pipeline().addAfter(backendDecoder, REPLIES, new BackendReplies(guard));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof String line) {
            command(ctx, line);
        } else if (msg instanceof SmtpInput.Data data) {
            // the slice's ownership goes on with it
            ctx.fireChannelRead(data.content());
        } else if (msg == SmtpInput.DATA_END) {
            inMessage = false;
            awaiting.add(false);
            ctx.fireChannelRead(ByteBufUtil.writeAscii(ctx.alloc(), ".\r\n"));
        } else if (msg == SmtpInput.CHUNK_END) {
            if (lastChunk && decoder.chunkEndsWithBareCr()) {
                refuse(ctx, "<CR>");
            }
        } else if (msg == SmtpInput.BARE_LF || msg == SmtpInput.BARE_CR) {
            refuse(ctx, msg == SmtpInput.BARE_LF ? "<LF>" : "<CR>");
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void command(ChannelHandlerContext ctx, String line) {
        if (line.indexOf('\r') >= 0) {
            refuse(ctx, "<CR>");
            return;
        }
        SmtpCommand c = SmtpCommand.parse(line);
        switch (c.verb()) {
            case "DATA" -> awaiting.add(true);
            case "BDAT" -> chunk(c);
            case "MAIL" -> {
                decoder.newMessage();
                awaiting.add(false);
            }
            default -> awaiting.add(false);
        }
        ctx.fireChannelRead(ByteBufUtil.writeUtf8(ctx.alloc(), line + "\r\n"));
    }

    /** BDAT n [LAST] (RFC 3030): the next n bytes are the chunk, whatever the backend answers. */
    private void chunk(SmtpCommand c) {
        awaiting.add(false);
        String[] words = c.argument().trim().split(" +");
        long size;
        try {
            size = Long.parseLong(words[0]);
        } catch (NumberFormatException e) {
            return; // the backend refuses it and reads no chunk; neither does the decoder
        }
        if (size < 0
                || words.length > 2
                || words.length == 2 && !words[1].toUpperCase(Locale.ROOT).equals("LAST")) {
            return;
        }
        lastChunk = words.length == 2;
        decoder.startChunk(size, false);
    }

    /** The backend's final reply line, with its first digit: pairs it with the oldest command waiting for one. */
    void reply(char digit) {
        Boolean data = awaiting.poll();
        if (Boolean.TRUE.equals(data) && digit == '3') {
            inMessage = true;
            decoder.startData();
        }
    }

    /** The backend is gone (closed, half-closed or failed): tell a client that waits for an answer. */
    void backendLost() {
        if (lossReported
                || session.closeReason() == CloseReason.SHUTDOWN // the client has its 421 4.3.2
                || !(inMessage || !awaiting.isEmpty())
                || !session.client().isActive()) {
            return;
        }
        lossReported = true;
        log.debug("{}: backend lost with {} replies owed{}", session, awaiting.size(), inMessage ? " mid-message" : "");
        session.client()
                .writeAndFlush(ByteBufUtil.writeAscii(
                        session.client().alloc(),
                        "421 4.4.2 " + hostname + " Error: connection to the mail server lost\r\n"));
    }

    private void refuse(ChannelHandlerContext ctx, String what) {
        lossReported = true; // the backend is dropped on purpose; the client has its answer
        ctx.writeAndFlush(ByteBufUtil.writeAscii(
                ctx.alloc(), "521 5.5.2 " + hostname + " Error: bare " + what + " received\r\n"));
        // the backend connection closes mid-message, so the backend discards it
        session.closeAfterFlush(CloseReason.PROTOCOL_ERROR, "bare " + what);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof CommandDecoder.LineTooLongException) {
            lossReported = true;
            ctx.writeAndFlush(
                    ByteBufUtil.writeAscii(ctx.alloc(), "500 5.5.6 " + hostname + " Error: line too long\r\n"));
            session.closeAfterFlush(CloseReason.PROTOCOL_ERROR, "line too long");
            return;
        }
        ctx.fireExceptionCaught(cause);
    }
}
