package dev.postern.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Splits a server's replies into {@link ReplyLine}s. With {@code literals} (IMAP) a line ending in {@code {n}} is
 * followed by n bytes of literal data and then the rest of the line: the literal is counted and skipped as it
 * arrives, never buffered, so a FETCH of a large message costs no memory here.
 */
final class ReplyDecoder extends ByteToMessageDecoder {
    /** Longest line (without literals) accepted from a server. */
    static final int MAX_LINE = 64 * 1024;

    /** Text kept of a line with literals, for error messages. */
    private static final int MAX_TEXT = 1024;

    private final boolean literals;
    private StringBuilder text;
    private long literalBytes;
    private long literalRemaining;

    ReplyDecoder(boolean literals) {
        this.literals = literals;
    }

    /** One logical line of a reply, without its line ending; literal data replaced by its byte count. */
    record ReplyLine(String text, long literalBytes) {}

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            if (literalRemaining > 0) {
                int n = (int) Math.min(literalRemaining, in.readableBytes());
                in.skipBytes(n);
                literalRemaining -= n;
                literalBytes += n;
                continue;
            }
            int start = in.readerIndex();
            int lf = in.indexOf(start, in.writerIndex(), (byte) '\n');
            if (lf < 0) {
                if (in.readableBytes() > MAX_LINE) {
                    in.skipBytes(in.readableBytes());
                    throw new TooLongFrameException("server line longer than " + MAX_LINE + " bytes");
                }
                return;
            }
            int end = lf > start && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            String piece = in.toString(start, end - start, StandardCharsets.UTF_8);
            in.readerIndex(lf + 1);
            long literal = literals ? literalSize(piece) : -1;
            if (text == null) {
                text = new StringBuilder(piece.length());
            }
            if (text.length() < MAX_TEXT) {
                text.append(piece, 0, Math.min(piece.length(), MAX_TEXT - text.length()));
            }
            if (literal >= 0) {
                literalRemaining = literal;
                if (literal == 0) {
                    continue;
                }
            } else {
                out.add(new ReplyLine(text.toString(), literalBytes));
                text = null;
                literalBytes = 0;
            }
        }
    }

    /** True while literal data is still expected: the server is in the middle of sending it. */
    boolean inLiteral() {
        return literalRemaining > 0;
    }

    /** The n of a line ending in {@code {n}} (or {@code ~{n}}), else -1. */
    static long literalSize(String line) {
        if (!line.endsWith("}")) {
            return -1;
        }
        int open = line.lastIndexOf('{');
        if (open < 0 || open >= line.length() - 2) {
            return -1;
        }
        long n = 0;
        for (int i = open + 1; i < line.length() - 1; i++) {
            char c = line.charAt(i);
            if (c < '0' || c > '9' || n > Integer.MAX_VALUE) {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }
}
