package dev.postern.proxy.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
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
        String line = readLine(in);
        if (line != null) {
            out.add(line);
        }
    }
}
