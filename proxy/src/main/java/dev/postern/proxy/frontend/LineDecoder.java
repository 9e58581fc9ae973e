package dev.postern.proxy.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Decodes CRLF- (or LF-) terminated lines into strings without the line ending, bounded in length. Used for backend
 * dialogues and for the POP3 and SMTP front ends, whose commands are single lines.
 */
public class LineDecoder extends CommandDecoder {
    public LineDecoder(int maxLineLength) {
        super(maxLineLength);
    }

    @Override
    protected void decodeCommand(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int lf = findEndOfLine(in);
        if (lf < 0) {
            return;
        }
        int start = in.readerIndex();
        int end = lf > start && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        String line = in.toString(start, end - start, StandardCharsets.UTF_8);
        in.readerIndex(lf + 1);
        out.add(line);
    }
}
