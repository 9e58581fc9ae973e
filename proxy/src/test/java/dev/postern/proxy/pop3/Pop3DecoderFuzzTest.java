package dev.postern.proxy.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.postern.proxy.codec.CommandDecoder;
import dev.postern.proxy.codec.LineProperties;
import dev.postern.testkit.Chunks;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Fuzzes the POP3 line decoder with what a client may send before login. Properties: every way of cutting the input
 * gives the same lines; the lines are within the bounds and, written out again, are the input; every buffer is
 * released. The seed corpus is in {@code Pop3DecoderFuzzTestInputs/}.
 */
class Pop3DecoderFuzzTest {
    private static final int COMMAND_LIMIT = 32;
    private static final int SASL_LIMIT = 128;

    @FuzzTest
    void decodesTheSameHoweverTheBytesArrive(byte[] input) {
        List<Object> whole = decode(input, Chunks.Way.WHOLE);
        assertThat(decode(input, Chunks.Way.BYTES)).as("bytewise").isEqualTo(whole);
        assertThat(decode(input, Chunks.Way.PLAN)).as("in pieces").isEqualTo(whole);
        LineProperties.assertLinesRebuildInput(input, whole, SASL_LIMIT);
    }

    private static List<Object> decode(byte[] input, Chunks.Way way) {
        Pop3Decoder decoder = new Pop3Decoder(COMMAND_LIMIT, SASL_LIMIT);
        List<Object> events = new ArrayList<>();
        // plays the session: "AUTH mech" without initial response is followed by one SASL line
        ChannelInboundHandlerAdapter session = new ChannelInboundHandlerAdapter() {
            private boolean inSasl;

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                String line = (String) msg;
                events.add(line);
                boolean start =
                        !inSasl && line.toUpperCase(Locale.ROOT).startsWith("AUTH ") && line.split(" ").length == 2;
                inSasl = start;
                decoder.saslExchange(start);
            }
        };
        EmbeddedChannel ch = new EmbeddedChannel(decoder, session);
        Chunks.feed(ch, Chunks.cut(input, way), e -> {
                    if (!(e instanceof CommandDecoder.LineTooLongException)) {
                        throw e;
                    }
                    events.add(LineProperties.LINE_TOO_LONG);
                })
                .assertReleased();
        return events;
    }
}
