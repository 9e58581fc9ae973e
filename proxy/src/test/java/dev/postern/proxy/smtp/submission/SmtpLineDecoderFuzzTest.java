package dev.postern.proxy.smtp.submission;

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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fuzzes the submission line decoder with what a client may send before AUTH, including refused BDAT chunks it must
 * skip. Properties: every way of cutting the input gives the same lines; the lines are within the bounds and, when no
 * chunk was skipped, written out again are the input; every buffer is released. The seed corpus is in
 * {@code SmtpLineDecoderFuzzTestInputs/}.
 */
class SmtpLineDecoderFuzzTest {
    private static final int LINE = 64;
    private static final int SASL_LINE = 256;
    private static final Pattern BDAT = Pattern.compile("(?i)BDAT (\\d{1,6})( LAST)?");

    @FuzzTest
    void decodesTheSameHoweverTheBytesArrive(byte[] input) {
        List<Object> whole = decode(input, Chunks.Way.WHOLE);
        assertThat(decode(input, Chunks.Way.BYTES)).as("bytewise").isEqualTo(whole);
        assertThat(decode(input, Chunks.Way.PLAN)).as("in pieces").isEqualTo(whole);
        if (whole.stream()
                .noneMatch(e -> e instanceof String s && BDAT.matcher(s).matches())) {
            LineProperties.assertLinesRebuildInput(input, whole, SASL_LINE);
        }
    }

    private static List<Object> decode(byte[] input, Chunks.Way way) {
        SmtpLineDecoder decoder = new SmtpLineDecoder(LINE, SASL_LINE);
        List<Object> events = new ArrayList<>();
        // plays the session: refuses every BDAT (its chunk is skipped) and answers "AUTH mech" with a 334
        ChannelInboundHandlerAdapter session = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                String line = (String) msg;
                events.add(line);
                Matcher bdat = BDAT.matcher(line);
                if (bdat.matches()) {
                    decoder.skip(Long.parseLong(bdat.group(1)));
                }
                decoder.saslMode(line.toUpperCase(Locale.ROOT).startsWith("AUTH ") && line.split(" ").length == 2);
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
        events.add(decoder.skipping()); // bytes of a chunk still to skip: a Long, not a line
        return events;
    }
}
