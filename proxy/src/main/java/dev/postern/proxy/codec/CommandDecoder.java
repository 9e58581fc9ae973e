package dev.postern.proxy.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Base of the pre-authentication decoders (client side) and the backend dialogue decoders. Adds what a mail proxy
 * needs on top of {@link ByteToMessageDecoder}:
 *
 * <ul>
 *   <li>{@link #pause()}/{@link #resume()}: while a login is in flight nothing more is decoded, so the bytes a client
 *       pipelines after its login stay raw in the buffer and are relayed to the backend untouched when the decoder
 *       is removed (a removed {@code ByteToMessageDecoder} passes its buffer on);
 *   <li>{@link #bufferedBytes()}/{@link #discardBuffered()}: STARTTLS must see whether anything followed the command
 *       (CVE-2011-0411) and never let it be executed;
 *   <li>a line length bound that the session can change (SASL lines may be longer than commands).
 * </ul>
 */
public abstract class CommandDecoder extends ByteToMessageDecoder {
    private boolean paused;
    private int maxLineLength;
    private ChannelHandlerContext ctx;
    /*
     * Where the last unsuccessful search for a line end stopped: a line arriving in many small pieces (TLS records,
     * a slow client) is then scanned once, not from its start at every piece. Valid only for the same buffer and
     * reader index; any consumption or compaction of the cumulation changes one of them.
     */
    private ByteBuf scannedBuffer;
    private int scannedReaderIndex;
    private int scannedTo;

    protected CommandDecoder(int maxLineLength) {
        this.maxLineLength = maxLineLength;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx);
    }

    public int maxLineLength() {
        return maxLineLength;
    }

    public void maxLineLength(int bytes) {
        this.maxLineLength = bytes;
    }

    /** Stops decoding; bytes keep accumulating (bounded by the caller turning auto-read off). */
    public void pause() {
        paused = true;
    }

    public boolean isPaused() {
        return paused;
    }

    /** Resumes decoding, and decodes what was buffered meanwhile. Call on the event loop. */
    public void resume() {
        if (!paused) {
            return;
        }
        paused = false;
        if (ctx != null && !ctx.isRemoved() && bufferedBytes() > 0) {
            try {
                channelRead(ctx, Unpooled.EMPTY_BUFFER);
                channelReadComplete(ctx);
            } catch (Exception e) {
                ctx.fireExceptionCaught(e);
            }
        }
    }

    /**
     * While paused, the client's half-close must not make the decoder decode or drop what it holds (a removed
     * decoder hands its bytes to the relay): the event goes on, the bytes stay.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (paused && evt instanceof ChannelInputShutdownEvent) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    /** Bytes received but not decoded yet. */
    public int bufferedBytes() {
        ByteBuf b = internalBuffer();
        return b == null ? 0 : b.readableBytes();
    }

    /** Drops every byte received but not decoded yet; returns how many. */
    public int discardBuffered() {
        ByteBuf b = internalBuffer();
        int n = b.readableBytes();
        b.skipBytes(n);
        scannedBuffer = null;
        return n;
    }

    @Override
    protected final void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (!paused) {
            decodeCommand(ctx, in, out);
        }
    }

    /**
     * Decodes at most what is complete in {@code in}. Implementations must not consume bytes they do not turn into a
     * message, and must check {@link #maxLineLength()}.
     */
    protected abstract void decodeCommand(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception;

    /**
     * The index of the LF ending the next line in {@code in}, or -1 when the line is not complete yet. Throws
     * {@link LineTooLongException} (after skipping what was buffered) when no LF is within the bound.
     */
    protected final int findEndOfLine(ByteBuf in) {
        int start = in.readerIndex();
        int limit = Math.min(in.writerIndex(), start + maxLineLength);
        int from = start;
        if (in == scannedBuffer && start == scannedReaderIndex && scannedTo <= limit) {
            from = scannedTo;
        }
        int lf = in.indexOf(from, limit, (byte) '\n');
        if (lf >= 0) {
            scannedBuffer = null;
            return lf;
        }
        if (in.readableBytes() >= maxLineLength) {
            scannedBuffer = null;
            in.skipBytes(in.readableBytes());
            throw new LineTooLongException(maxLineLength);
        }
        scannedBuffer = in;
        scannedReaderIndex = start;
        scannedTo = limit;
        return -1;
    }

    /**
     * The next complete line of {@code in} without its line ending (CRLF or a bare LF), consumed; null while the line
     * is not complete. Bounded like {@link #findEndOfLine}.
     */
    protected final String readLine(ByteBuf in) {
        int lf = findEndOfLine(in);
        return lf < 0 ? null : takeLine(in, lf);
    }

    /** The line of {@code in} that ends with the LF at {@code lf}, without its line ending, consumed. */
    protected static String takeLine(ByteBuf in, int lf) {
        int start = in.readerIndex();
        int end = lf > start && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        String line = in.toString(start, end - start, StandardCharsets.UTF_8);
        in.readerIndex(lf + 1);
        return line;
    }

    /** A line (or literal) passed its bound. Cheap: no stack trace. */
    public static final class LineTooLongException extends io.netty.handler.codec.DecoderException {
        private static final long serialVersionUID = 1L;

        public LineTooLongException(int limit) {
            super("line longer than " + limit + " bytes");
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
