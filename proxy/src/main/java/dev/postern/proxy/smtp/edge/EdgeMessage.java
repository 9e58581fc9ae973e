package dev.postern.proxy.smtp.edge;

import dev.postern.config.ListenerConfig;
import dev.postern.config.SmtpConfig;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.smtp.Envelope;
import dev.postern.proxy.smtp.SmtpCommand;
import dev.postern.proxy.smtp.SmtpReply;
import dev.postern.proxy.smtp.TransactionBackend;
import dev.postern.proxy.smtp.TransactionSession;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The message of an edge transaction on its way to the backend: DATA (the backend's {@code 354} relayed, then the
 * bytes as they arrive, then the end) or BDAT chunks (RFC 3030: each chunk passed on as announced). The size limit is
 * checked as the bytes flow; a message over it, or one whose backend went away, is answered at its end. The backend's
 * reply to the end is the only answer the client gets. A {@code Received-SPF} header, when there is one, goes first.
 */
final class EdgeMessage {
    private static final Logger log = LoggerFactory.getLogger(EdgeMessage.class);

    private final EdgeSession s;
    private final EdgeTransactions t;
    private final ProxyServices services;
    private final ListenerConfig listener;
    private final SmtpConfig smtp;

    private long bytes;
    /** Why the message will be refused at its end (size, lost backend); bytes are dropped meanwhile. */
    private String failure;

    private boolean chunkLast;
    /** A BDAT refused up front: the reply once its chunk has been read. */
    private String chunkRefusal;
    /** The backend answered a BDAT before its chunk was through (or was lost): the answer, kept for the chunk end. */
    private SmtpReply earlyChunkReply;

    private boolean awaitingChunkReply;
    private boolean started;

    EdgeMessage(EdgeSession session, EdgeTransactions transactions) {
        this.s = session;
        this.t = transactions;
        this.services = session.services();
        this.listener = session.listener();
        this.smtp = session.smtp;
    }

    /** A new transaction: nothing of a message yet. */
    void reset() {
        bytes = 0;
        failure = null;
        chunkRefusal = null;
        earlyChunkReply = null;
        awaitingChunkReply = false;
        started = false;
        s.smtpDecoder().newMessage();
    }

    /** The backend went away while the message flowed: the rest is dropped and the end answered 451. */
    void backendLost() {
        if (s.phase() == TransactionSession.Phase.MESSAGE) {
            failure = EdgeTransactions.LOST;
            s.clientReading(true);
        }
    }

    // ---- DATA

    void dataCommand(SmtpCommand c) {
        if (c.hasArgument()) {
            s.error("501 5.5.4 Syntax: DATA");
            return;
        }
        String refusal = t.messageRefusal();
        if (refusal != null) {
            s.error(refusal);
            return;
        }
        TransactionBackend b = t.backend();
        s.hold();
        b.command(
                "DATA",
                r -> s.later(() -> {
                    if (r.code() != 354) {
                        t.answer(r);
                        s.proceed();
                        return;
                    }
                    s.forward(r);
                    start(b);
                    s.smtpDecoder().startData();
                    s.startMessage();
                }));
    }

    /** The message starts on {@code b}: counting from zero, the SPF header first. */
    private void start(TransactionBackend b) {
        started = true;
        bytes = 0;
        failure = null;
        SenderPolicy.Outcome spf = t.spf();
        if (spf != null && spf.receivedSpf() != null) {
            b.data(line(spf.receivedSpf()));
        }
        if (!b.isWritable()) {
            s.clientReading(false);
        }
    }

    /** Message bytes from the client (still owned by the caller). */
    void data(ByteBuf content) {
        int n = content.readableBytes();
        bytes += n;
        s.session().addBytesFromClient(n);
        if (failure != null) {
            return;
        }
        if (bytes > smtp.maxMessageSize()) {
            services.metrics().smtpRejected(listener, "size");
            failure = Envelope.TOO_BIG;
            t.abort();
            return;
        }
        TransactionBackend b = t.backend();
        if (b == null) {
            failure = EdgeTransactions.LOST;
            return;
        }
        b.data(content.retain());
        if (!b.isWritable()) {
            s.clientReading(false);
        }
    }

    /** The end of data ({@code CRLF.CRLF}) or of a BDAT chunk. */
    void end(boolean dataEnd) {
        s.hold();
        if (dataEnd) {
            endOfData();
        } else {
            endOfChunk();
        }
    }

    private void endOfData() {
        TransactionBackend b = t.backend();
        if (failure != null || b == null) {
            String reply = failure != null ? failure : EdgeTransactions.LOST;
            t.finish(false, bytes);
            s.error(reply);
            s.proceed();
            return;
        }
        long size = bytes;
        b.commandThenData(
                ".",
                r -> s.later(() -> {
                    t.finish(r.positive(), size);
                    t.answer(r);
                    s.proceed();
                }));
        b.flushAndWait();
    }

    // ---- BDAT (RFC 3030)

    void bdat(SmtpCommand c) {
        String[] parts = c.argument().trim().split(" +");
        long size = parts[0].matches("[0-9]{1,18}") ? Long.parseLong(parts[0]) : -1;
        if (size < 0) {
            // without a size the chunk cannot be found: its bytes would be read as commands
            s.drop("501 5.5.4 Syntax: BDAT size [LAST]", CloseReason.PROTOCOL_ERROR);
            return;
        }
        boolean last = parts.length == 2 && parts[1].equalsIgnoreCase("LAST");
        String refusal;
        if (parts.length > 2 || parts.length == 2 && !last) {
            refusal = "501 5.5.4 Syntax: BDAT size [LAST]";
        } else if (!s.hello.offers("CHUNKING")) {
            refusal = "502 5.5.1 Error: command not implemented";
        } else {
            refusal = t.messageRefusal();
        }
        if (refusal == null && failure != null) {
            refusal = failure; // an earlier chunk of this message failed
        }
        if (refusal == null && bytes + size > smtp.maxMessageSize()) {
            services.metrics().smtpRejected(listener, "size");
            refusal = failure = Envelope.TOO_BIG;
            t.abort();
        }
        if (refusal == null && !t.backend().supports("CHUNKING")) {
            refusal = "451 4.3.0 Error: the mail server for this destination does not take BDAT; use DATA";
        }
        chunkLast = last;
        if (refusal != null) {
            chunkRefusal = refusal;
            skipChunk(size);
            return;
        }
        TransactionBackend b = t.backend();
        if (!started) {
            started = true;
            SenderPolicy.Outcome spf = t.spf();
            if (spf != null && spf.receivedSpf() != null) {
                // the header goes first, as a chunk of its own (the client's chunk sizes stay as they are)
                ByteBuf header = line(spf.receivedSpf());
                b.commandThenData("BDAT " + header.readableBytes(), r -> {});
                b.data(header);
            }
            if (!b.isWritable()) {
                s.clientReading(false);
            }
        }
        earlyChunkReply = null;
        awaitingChunkReply = true;
        b.commandThenData("BDAT " + size + (last ? " LAST" : ""), r -> s.later(() -> chunkReply(r)));
        if (size == 0) {
            s.hold();
            endOfChunk();
            return;
        }
        s.smtpDecoder().startChunk(size, false);
        s.startMessage();
    }

    private void skipChunk(long size) {
        if (size == 0) {
            s.hold();
            endOfChunk();
            return;
        }
        s.smtpDecoder().startChunk(size, true);
        s.startMessage();
    }

    private void endOfChunk() {
        if (chunkRefusal != null) {
            String reply = chunkRefusal;
            chunkRefusal = null;
            if (chunkLast && t.hasSender()) {
                t.finish(false, bytes);
            }
            s.error(reply);
            s.proceed();
            return;
        }
        if (chunkLast && s.smtpDecoder().chunkEndsWithBareCr()) {
            bareLineEnding("<CR>");
            return;
        }
        awaitingChunkReply = false;
        if (earlyChunkReply != null) {
            SmtpReply r = earlyChunkReply;
            earlyChunkReply = null;
            chunkReply(r);
            return;
        }
        if (failure != null) {
            // the backend went away during the chunk; its reply (LOST) comes through chunkReply
            return;
        }
        t.backend().flushAndWait();
    }

    private void chunkReply(SmtpReply r) {
        if (awaitingChunkReply) {
            earlyChunkReply = r; // answered before the chunk was through: kept for its end
            return;
        }
        if (chunkLast) {
            t.finish(r.positive(), bytes);
        }
        t.answer(r);
        s.proceed();
    }

    /** A bare LF or CR in the message (reject mode): refused, and the connection closed. */
    void bareLineEnding(String what) {
        log.info("{}: bare {} in the message data from {}; refused", s.session(), what, s.clientIp);
        services.metrics().smtpRejected(listener, "bare-line-ending");
        t.abort();
        s.drop("521 5.5.2 " + s.hostname() + " Error: bare " + what + " received", CloseReason.PROTOCOL_ERROR);
    }

    /** {@code text} and CRLF, as message bytes for the backend (a header line of Postern's own). */
    private ByteBuf line(String text) {
        ByteBuf buf = s.context().alloc().buffer(text.length() + 2);
        ByteBufUtil.writeUtf8(buf, text);
        buf.writeByte('\r').writeByte('\n');
        return buf;
    }
}
