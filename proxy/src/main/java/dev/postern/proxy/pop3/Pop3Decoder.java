package dev.postern.proxy.pop3;

import dev.postern.proxy.codec.LineDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.List;

/**
 * The POP3 client's line decoder. Commands are bounded by the listener's line length; an {@code AUTH} command (its
 * initial response may carry an OAuth token) and the lines of a SASL exchange by the longer SASL line length.
 */
public final class Pop3Decoder extends LineDecoder {
    private final int commandLimit;
    private final int saslLimit;
    private boolean sasl;

    public Pop3Decoder(int commandLimit, int saslLimit) {
        super(commandLimit);
        this.commandLimit = commandLimit;
        this.saslLimit = Math.max(commandLimit, saslLimit);
    }

    /** The session is (or is no longer) inside a SASL exchange: its lines are base64 responses. */
    public void saslExchange(boolean inExchange) {
        this.sasl = inExchange;
    }

    @Override
    protected void decodeCommand(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        maxLineLength(sasl || startsWithAuth(in) ? saslLimit : commandLimit);
        super.decodeCommand(ctx, in, out);
    }

    private static boolean startsWithAuth(ByteBuf in) {
        if (in.readableBytes() < 5) {
            return false;
        }
        int i = in.readerIndex();
        return (in.getByte(i) | 0x20) == 'a'
                && (in.getByte(i + 1) | 0x20) == 'u'
                && (in.getByte(i + 2) | 0x20) == 't'
                && (in.getByte(i + 3) | 0x20) == 'h'
                && in.getByte(i + 4) == ' ';
    }
}
