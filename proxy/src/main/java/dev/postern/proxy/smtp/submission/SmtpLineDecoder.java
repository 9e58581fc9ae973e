package dev.postern.proxy.smtp.submission;

import dev.postern.proxy.codec.CommandDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.List;

/**
 * Splits a client's bytes before authentication into lines (CRLF, or a bare LF, removed), as strings. Two bounds: a
 * command line may be {@code lineLength} bytes, a SASL line {@code saslLineLength} (OAuth tokens are long): an
 * {@code AUTH} command line (which may carry an initial response) and every line while {@link #saslMode} is on.
 *
 * <p>It can also skip a number of bytes unread: the chunk that follows a {@code BDAT} command the session refused
 * (RFC 3030 has the server read it anyway), so the chunk is never taken for commands.
 */
public final class SmtpLineDecoder extends CommandDecoder {
    private static final byte[] AUTH = {'A', 'U', 'T', 'H', ' '};

    private final int lineLength;
    private final int saslLineLength;
    private boolean saslMode;
    private long skip;

    public SmtpLineDecoder(int lineLength, int saslLineLength) {
        super(lineLength);
        this.lineLength = lineLength;
        this.saslLineLength = Math.max(lineLength, saslLineLength);
    }

    /** While on, every line may be as long as a SASL line (the client answers a {@code 334} challenge). */
    public void saslMode(boolean on) {
        this.saslMode = on;
    }

    /** Drops the next {@code bytes} bytes the client sends without decoding them. */
    public void skip(long bytes) {
        skip += bytes;
    }

    /** Bytes still to be skipped. */
    public long skipping() {
        return skip;
    }

    @Override
    protected void decodeCommand(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (skip > 0) {
            int n = (int) Math.min(skip, in.readableBytes());
            in.skipBytes(n);
            skip -= n;
            if (skip > 0) {
                return;
            }
        }
        maxLineLength(saslMode || startsWithAuth(in) ? saslLineLength : lineLength);
        String line = readLine(in);
        if (line != null) {
            out.add(line);
        }
    }

    /** True when the buffered line starts with {@code AUTH } (any case); false while fewer bytes are there. */
    private static boolean startsWithAuth(ByteBuf in) {
        if (in.readableBytes() < AUTH.length) {
            return false;
        }
        int start = in.readerIndex();
        for (int i = 0; i < AUTH.length; i++) {
            int b = in.getByte(start + i);
            if (b >= 'a' && b <= 'z') {
                b -= 'a' - 'A';
            }
            if (b != AUTH[i]) {
                return false;
            }
        }
        return true;
    }
}
