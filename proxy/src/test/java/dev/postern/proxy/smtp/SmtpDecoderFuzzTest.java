package dev.postern.proxy.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.postern.proxy.codec.CommandDecoder;
import dev.postern.testkit.Chunks;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fuzzes the port-25 decoder through its three modes (commands, DATA with its end-of-data and dot rules, BDAT chunks),
 * both with bare line endings refused and normalized. Properties: every way of cutting the input gives the same
 * transcript; what DATA passes on has no bare CR or LF and no end of data the client did not send, and ends with the
 * CRLF before the client's own; in DATA the decoder holds at most two bytes; every buffer is released. The seed
 * corpus is in {@code SmtpDecoderFuzzTestInputs/}.
 */
class SmtpDecoderFuzzTest {
    private static final int LINE = 128;
    private static final Pattern BDAT = Pattern.compile("BDAT (\\d{1,6})( LAST| SKIP)?");

    @FuzzTest
    void passesOnExactlyOneUnambiguousMessageEnd(byte[] input) {
        for (boolean normalize : new boolean[] {false, true}) {
            List<String> whole = decode(input, normalize, Chunks.Way.WHOLE);
            assertThat(decode(input, normalize, Chunks.Way.BYTES))
                    .as("bytewise")
                    .isEqualTo(whole);
            assertThat(decode(input, normalize, Chunks.Way.PLAN))
                    .as("in pieces")
                    .isEqualTo(whole);
            for (int i = 0; i < whole.size(); i++) {
                if (whole.get(i).startsWith("D:")) {
                    String data = whole.get(i).substring(2);
                    assertThat(hasBareLineEnding(data))
                            .as("bare CR or LF passed on in %s", data)
                            .isFalse();
                    assertThat(("\r\n" + data).contains("\r\n.\r\n"))
                            .as("an end of data passed on inside %s", data)
                            .isFalse();
                    if (i + 1 < whole.size() && whole.get(i + 1).equals("DATA_END")) {
                        assertThat(data).endsWith("\r\n");
                    }
                }
            }
        }
    }

    private static boolean hasBareLineEnding(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n' && (i == 0 || s.charAt(i - 1) != '\r')
                    || c == '\r' && (i + 1 == s.length() || s.charAt(i + 1) != '\n')) {
                return true;
            }
        }
        return false;
    }

    /** The transcript: {@code L:} a line, {@code D:} DATA bytes, {@code C:} chunk bytes (runs joined), markers. */
    private static List<String> decode(byte[] input, boolean normalize, Chunks.Way way) {
        SmtpDecoder decoder = new SmtpDecoder(LINE, normalize);
        Session session = new Session(decoder);
        EmbeddedChannel ch = new EmbeddedChannel(decoder, session);
        Chunks.feed(
                        ch,
                        Chunks.cut(input, way),
                        e -> {
                            if (!(e instanceof CommandDecoder.LineTooLongException)) {
                                throw e;
                            }
                            session.add("LineTooLong");
                        },
                        () -> {
                            int held = decoder.bufferedBytes();
                            assertThat(held).isLessThanOrEqualTo(session.inData ? 2 : LINE);
                        })
                .assertReleased();
        session.flush();
        return session.transcript;
    }

    /** Plays the session: DATA starts data mode, {@code BDAT n [LAST|SKIP]} a chunk, MAIL a new message. */
    private static final class Session extends ChannelInboundHandlerAdapter {
        final List<String> transcript = new ArrayList<>();
        private final StringBuilder bytes = new StringBuilder();
        private final SmtpDecoder decoder;
        private String kind = "";
        boolean inData;

        Session(SmtpDecoder decoder) {
            this.decoder = decoder;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof SmtpInput.Data d) {
                try {
                    bytes.append(d.content().toString(StandardCharsets.ISO_8859_1));
                } finally {
                    d.release();
                }
                return;
            }
            if (msg instanceof String line) {
                add("L:" + line);
                Matcher bdat = BDAT.matcher(line);
                if (line.equals("DATA")) {
                    decoder.startData();
                    kind = "D:";
                    inData = true;
                } else if (bdat.matches() && Long.parseLong(bdat.group(1)) == 0) {
                    add("CHUNK_END"); // as EdgeMessage does: an empty chunk ends at once, the decoder is not involved
                } else if (bdat.matches()) {
                    decoder.startChunk(Long.parseLong(bdat.group(1)), " SKIP".equals(bdat.group(2)));
                    kind = "C:";
                } else if (line.startsWith("MAIL")) {
                    decoder.newMessage();
                }
            } else {
                add(msg.toString());
                inData = false;
            }
        }

        void add(String event) {
            flush();
            transcript.add(event);
        }

        void flush() {
            if (bytes.length() > 0) {
                transcript.add(kind + bytes);
                bytes.setLength(0);
            }
        }
    }
}
