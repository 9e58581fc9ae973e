package dev.postern.proxy.smtp;

import dev.postern.config.ListenerConfig;
import dev.postern.config.SmtpConfig;
import dev.postern.proxy.codec.CommandDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ByteProcessor;
import java.util.List;

/**
 * Decodes an SMTP or LMTP client's bytes (the port-25 edge's, an LMTP session's, and a submission session's after its login) in three modes the session switches between:
 *
 * <ul>
 *   <li>commands: lines (CRLF, or a bare LF, removed) as strings, bounded in length;
 *   <li>DATA (RFC 5321, section 4.1.1.4): the message as {@link SmtpInput.Data} slices, then {@link
 *       SmtpInput#DATA_END}. The end of data is {@code CRLF.CRLF} and nothing else. A bare LF or bare CR (one not
 *       part of a CRLF) is, as configured, refused ({@link SmtpInput#BARE_LF}/{@link SmtpInput#BARE_CR}, after which
 *       every byte is dropped) or normalized to CRLF; a line that normalization starts and that begins with a dot gets
 *       one more dot, so the next server reads exactly the content the client sent and never an end of data the
 *       client did not send (the {@code <LF>.<CR><LF>} smuggling class). Dot-stuffing is passed on as it is;
 *   <li>a BDAT chunk (RFC 3030): exactly the announced number of bytes as {@link SmtpInput.Data}, then {@link
 *       SmtpInput#CHUNK_END}, or skipped unread. In reject mode a bare LF or CR there is refused too.
 * </ul>
 *
 * <p>Message bytes are never held beyond what a decision needs (a line-start dot, a CR before its LF), so memory stays
 * bounded whatever the line lengths.
 */
public final class SmtpDecoder extends CommandDecoder {
    private static final ByteBuf CRLF = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(new byte[] {'\r', '\n'}).asReadOnly());
    private static final ByteBuf DOT =
            Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(new byte[] {'.'}).asReadOnly());

    private enum Mode {
        COMMAND,
        DATA,
        CHUNK,
        /** After a refused bare line ending: everything is dropped. */
        DISCARD
    }

    /** Where the DATA scan stands. */
    private enum Position {
        /** After a CRLF (or at the start of the data): a dot here may begin the end of data. */
        LINE_START,
        /** After a normalized bare LF/CR: a dot here must be doubled. */
        NORMALIZED_LINE_START,
        MIDDLE
    }

    private final boolean normalize;
    private Mode mode = Mode.COMMAND;
    private Position position;
    private long chunkLeft;
    private boolean chunkDiscard;
    /** BDAT in reject mode: the last byte passed on was a CR, so the next one must be LF. */
    private boolean chunkCr;

    /**
     * @param lineLength the longest command line
     * @param normalize normalize bare line endings in DATA instead of refusing them
     */
    public SmtpDecoder(int lineLength, boolean normalize) {
        super(lineLength);
        this.normalize = normalize;
    }

    /** The decoder of a transaction listener (edge, LMTP): its line length, its way with bare line endings. */
    public static SmtpDecoder forListener(ListenerConfig listener) {
        return new SmtpDecoder(
                listener.limits().lineLength(),
                listener.smtp().bareLineEndings() == SmtpConfig.BareLineEndings.NORMALIZE);
    }

    /** Decodes what follows as message data, up to {@code CRLF.CRLF}. */
    public void startData() {
        mode = Mode.DATA;
        position = Position.LINE_START;
    }

    /**
     * Decodes the next {@code size} bytes as a BDAT chunk: passed on, or skipped when {@code discard}. A size of 0
     * ends at once with {@link SmtpInput#CHUNK_END}.
     */
    public void startChunk(long size, boolean discard) {
        mode = Mode.CHUNK;
        chunkLeft = size;
        chunkDiscard = discard;
    }

    /** A new message starts (BDAT's bare-CR state does not carry over). */
    public void newMessage() {
        chunkCr = false;
    }

    /** Whether the decoder is in command mode. */
    public boolean inCommandMode() {
        return mode == Mode.COMMAND;
    }

    @Override
    protected void decodeCommand(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (mode) {
            case COMMAND -> line(in, out);
            case DATA -> data(in, out);
            case CHUNK -> chunk(in, out);
            case DISCARD -> in.skipBytes(in.readableBytes());
        }
    }

    private void line(ByteBuf in, List<Object> out) {
        String line = readLine(in);
        if (line != null) {
            out.add(line);
        }
    }

    private void data(ByteBuf in, List<Object> out) {
        int i = in.readerIndex();
        int end = in.writerIndex();
        int run = i;
        while (i < end) {
            if (position == Position.LINE_START) {
                if (in.getByte(i) == '.') {
                    if (i + 1 >= end) {
                        break; // a dot at the start of a line: wait for what follows
                    }
                    byte next = in.getByte(i + 1);
                    if (next == '\r') {
                        if (i + 2 >= end) {
                            break;
                        }
                        if (in.getByte(i + 2) == '\n') {
                            emit(in, run, i, out);
                            in.readerIndex(i + 3);
                            mode = Mode.COMMAND;
                            out.add(SmtpInput.DATA_END);
                            return;
                        }
                        // ".<CR>x": the dot stuffs an empty line ended by a bare CR
                        if (refuse(in, run, i, SmtpInput.BARE_CR, out)) {
                            return;
                        }
                        emit(in, run, i, out);
                        out.add(new SmtpInput.Data(CRLF.duplicate()));
                        i += 2;
                        run = i;
                        position = Position.NORMALIZED_LINE_START;
                        continue;
                    }
                    if (next == '\n') {
                        // ".<LF>": passing it on as ".<CR><LF>" would end the data at the next server
                        if (refuse(in, run, i, SmtpInput.BARE_LF, out)) {
                            return;
                        }
                        emit(in, run, i, out);
                        out.add(new SmtpInput.Data(CRLF.duplicate()));
                        i += 2;
                        run = i;
                        position = Position.NORMALIZED_LINE_START;
                        continue;
                    }
                    // a stuffed dot: passed on as it is
                    i++;
                }
                position = Position.MIDDLE;
                continue;
            }
            if (position == Position.NORMALIZED_LINE_START) {
                position = Position.MIDDLE;
                if (in.getByte(i) == '.') {
                    emit(in, run, i, out);
                    out.add(new SmtpInput.Data(DOT.duplicate()));
                    run = i;
                    i++;
                    continue;
                }
            }
            int j = in.forEachByte(i, end - i, ByteProcessor.FIND_CRLF);
            if (j < 0) {
                i = end;
                break;
            }
            if (in.getByte(j) == '\n') {
                if (refuse(in, run, j, SmtpInput.BARE_LF, out)) {
                    return;
                }
                emit(in, run, j, out);
                out.add(new SmtpInput.Data(CRLF.duplicate()));
                i = j + 1;
                run = i;
                position = Position.NORMALIZED_LINE_START;
                continue;
            }
            if (j + 1 >= end) {
                i = j; // a CR at the end: wait for what follows
                break;
            }
            if (in.getByte(j + 1) == '\n') {
                i = j + 2;
                position = Position.LINE_START;
                continue;
            }
            if (refuse(in, run, j, SmtpInput.BARE_CR, out)) {
                return;
            }
            emit(in, run, j, out);
            out.add(new SmtpInput.Data(CRLF.duplicate()));
            i = j + 1;
            run = i;
            position = Position.NORMALIZED_LINE_START;
        }
        emit(in, run, i, out);
        in.readerIndex(i);
    }

    /** In reject mode: passes on what came before, reports the bare line ending and drops everything else. */
    private boolean refuse(ByteBuf in, int run, int at, Object marker, List<Object> out) {
        if (normalize) {
            return false;
        }
        emit(in, run, at, out);
        in.skipBytes(in.readableBytes());
        mode = Mode.DISCARD;
        out.add(marker);
        return true;
    }

    private static void emit(ByteBuf in, int from, int to, List<Object> out) {
        if (to > from) {
            out.add(new SmtpInput.Data(in.retainedSlice(from, to - from)));
        }
    }

    private void chunk(ByteBuf in, List<Object> out) {
        int n = (int) Math.min(chunkLeft, in.readableBytes());
        if (n > 0) {
            if (chunkDiscard) {
                in.skipBytes(n);
            } else {
                int start = in.readerIndex();
                if (!normalize) {
                    int bad = bareLineEnding(in, start, n);
                    if (bad >= 0) {
                        boolean lf = in.getByte(bad) == '\n';
                        // a CR that no LF followed is the byte before the one found
                        int end = lf ? bad : Math.max(start, bad - 1);
                        if (end > start) {
                            out.add(new SmtpInput.Data(in.retainedSlice(start, end - start)));
                        }
                        in.skipBytes(in.readableBytes());
                        mode = Mode.DISCARD;
                        out.add(lf ? SmtpInput.BARE_LF : SmtpInput.BARE_CR);
                        return;
                    }
                    if (n < chunkLeft && in.getByte(start + n - 1) == '\r') {
                        // a CR whose next byte has not arrived: held back, so that a bare one is never passed on
                        // (whether it is must not depend on where the client's bytes were cut)
                        chunkCr = false;
                        n--;
                        if (n == 0) {
                            return;
                        }
                    }
                }
                out.add(new SmtpInput.Data(in.readRetainedSlice(n)));
            }
            chunkLeft -= n;
        }
        if (chunkLeft == 0) {
            mode = Mode.COMMAND;
            out.add(SmtpInput.CHUNK_END);
        }
    }

    /**
     * The index of the byte that shows the first bare line ending in {@code in[start, start+n)} (a bare LF itself, or
     * the byte after a bare CR), given whether the byte before was a CR; -1 if none.
     */
    private int bareLineEnding(ByteBuf in, int start, int n) {
        boolean cr = chunkCr;
        for (int i = start; i < start + n; i++) {
            byte b = in.getByte(i);
            if (cr && b != '\n' || !cr && b == '\n') {
                return i;
            }
            cr = b == '\r';
        }
        chunkCr = cr;
        return -1;
    }

    /** True when the last BDAT byte passed on was a CR that no LF followed (checked after the LAST chunk). */
    public boolean chunkEndsWithBareCr() {
        return !normalize && chunkCr;
    }
}
