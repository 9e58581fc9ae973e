package dev.postern.proxy.smtp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/** What the {@link MessageDecoder} makes of an SMTP client's bytes, besides command lines (strings). */
public final class MessageInput {
    private MessageInput() {}

    /** Message bytes to pass on as they are (DATA: already checked or normalized; BDAT: the chunk). */
    public static final class Data extends DefaultByteBufHolder {
        public Data(ByteBuf content) {
            super(content);
        }
    }

    /** DATA ended: the client sent {@code CRLF.CRLF}; the final {@code .CRLF} is not in any {@link Data}. */
    public static final Object DATA_END = new Marker("DATA_END");

    /** The BDAT chunk announced by the last BDAT command is complete. */
    public static final Object CHUNK_END = new Marker("CHUNK_END");

    /** A bare LF in the message (reject mode); the decoder drops everything after it. */
    public static final Object BARE_LF = new Marker("BARE_LF");

    /** A bare CR in the message (reject mode); the decoder drops everything after it. */
    public static final Object BARE_CR = new Marker("BARE_CR");

    private record Marker(String name) {
        @Override
        public String toString() {
            return name;
        }
    }
}
