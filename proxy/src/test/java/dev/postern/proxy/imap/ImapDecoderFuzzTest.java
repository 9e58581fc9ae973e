package dev.postern.proxy.imap;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.postern.proxy.codec.CommandDecoder;
import dev.postern.testkit.Chunks;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzzes the IMAP command decoder with what a client may send before login. Properties: every way of cutting the input
 * gives the same requests; every request is within the bounds; a decoded command written out again decodes to
 * itself; every buffer is released. The seed corpus is in {@code ImapDecoderFuzzTestInputs/}.
 */
class ImapDecoderFuzzTest {
    private static final int LINE = 64;
    private static final int SASL_LINE = 256;
    private static final int LITERAL = 32;

    @FuzzTest
    void decodesTheSameHoweverTheBytesArrive(byte[] input) {
        List<Object> whole = decode(input, Chunks.Way.WHOLE, LINE, SASL_LINE, LITERAL);
        assertThat(decode(input, Chunks.Way.BYTES, LINE, SASL_LINE, LITERAL))
                .as("bytewise")
                .isEqualTo(whole);
        assertThat(decode(input, Chunks.Way.PLAN, LINE, SASL_LINE, LITERAL))
                .as("in pieces")
                .isEqualTo(whole);
        for (Object event : whole) {
            if (event instanceof ImapRequest.Command c) {
                assertBounded(c);
                // written out again: spaces around parentheses may lengthen a line, and an invalid byte in a literal
                // comes back as U+FFFD, three bytes: larger bounds
                assertThat(decode(encode(c), Chunks.Way.WHOLE, LINE * 4, SASL_LINE * 4, LITERAL * 3))
                        .as("re-encoded %s", c)
                        .containsExactly(c);
            } else if (event instanceof ImapRequest.SaslResponse r) {
                assertThat(r.line().length()).isLessThanOrEqualTo(SASL_LINE);
            }
        }
    }

    private static void assertBounded(ImapRequest.Command c) {
        int literals = 0;
        for (ImapArg a : c.args()) {
            if (a.kind() == ImapArg.Kind.LITERAL) {
                literals += a.value().getBytes(StandardCharsets.UTF_8).length;
            } else {
                assertThat(a.value().length()).isLessThanOrEqualTo(SASL_LINE);
            }
        }
        assertThat(literals).isLessThanOrEqualTo(LITERAL * 3); // UTF-8 repair may widen invalid bytes
    }

    /** The requests decoded, {@code "LineTooLong"} where the decoder gave up. */
    private static List<Object> decode(byte[] input, Chunks.Way way, int line, int saslLine, int literal) {
        ImapDecoder decoder = new ImapDecoder(line, saslLine, literal);
        List<Object> events = new ArrayList<>();
        // plays the session: an AUTHENTICATE without initial response is followed by a SASL line
        ChannelInboundHandlerAdapter session = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                events.add(msg);
                if (msg instanceof ImapRequest.Command c
                        && c.name().equalsIgnoreCase("AUTHENTICATE")
                        && c.args().size() == 1) {
                    decoder.expectSaslResponse();
                }
            }
        };
        EmbeddedChannel ch = new EmbeddedChannel(decoder, session);
        Chunks.Feed feed = Chunks.feed(ch, Chunks.cut(input, way), e -> {
            if (!(e instanceof CommandDecoder.LineTooLongException)) {
                throw e;
            }
            events.add("LineTooLong");
        });
        feed.assertReleased();
        // what a close makes of leftovers is not compared: a live client never sees it
        return trimAfterLineTooLong(events);
    }

    private static List<Object> trimAfterLineTooLong(List<Object> events) {
        int at = events.indexOf("LineTooLong");
        return at < 0 ? List.copyOf(events) : List.copyOf(events.subList(0, at + 1));
    }

    /** {@code c} as a client would write it, literals non-synchronizing. */
    static byte[] encode(ImapRequest.Command c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        write(out, c.tag() + " " + c.name());
        for (ImapArg a : c.args()) {
            switch (a.kind()) {
                case ATOM -> write(out, " " + a.value());
                case QUOTED -> write(
                        out, " \"" + a.value().replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
                case LITERAL -> {
                    byte[] bytes = a.value().getBytes(StandardCharsets.UTF_8);
                    write(out, " {" + bytes.length + "+}\r\n");
                    out.writeBytes(bytes);
                }
                case LIST_START -> write(out, " (");
                case LIST_END -> write(out, " )");
            }
        }
        write(out, "\r\n");
        return out.toByteArray();
    }

    private static void write(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }
}
