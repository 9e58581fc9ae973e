package dev.postern.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.bench.load.ReplyDecoder.ReplyLine;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The reply splitter, fed whole and split at every byte boundary. */
class ReplyDecoderTest {
    private static List<ReplyLine> decode(boolean literals, String input, int... splits) {
        EmbeddedChannel ch = new EmbeddedChannel(new ReplyDecoder(literals));
        byte[] bytes = input.getBytes(StandardCharsets.UTF_8);
        int from = 0;
        for (int split : splits) {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, from, split - from));
            from = split;
        }
        ch.writeInbound(Unpooled.wrappedBuffer(bytes, from, bytes.length - from));
        List<ReplyLine> out = new ArrayList<>();
        ReplyLine line;
        while ((line = ch.readInbound()) != null) {
            out.add(line);
        }
        ch.finishAndReleaseAll();
        return out;
    }

    /** The same input whole and split once at every position gives the same lines. */
    private static List<ReplyLine> decodeEverySplit(boolean literals, String input) {
        List<ReplyLine> whole = decode(literals, input);
        for (int i = 1; i < input.length(); i++) {
            assertThat(decode(literals, input, i)).as("split at %d", i).isEqualTo(whole);
        }
        return whole;
    }

    @Test
    void splitsLinesWithAndWithoutCarriageReturns() {
        assertThat(decodeEverySplit(false, "+OK hello\r\n250-a\n250 b\r\n"))
                .containsExactly(new ReplyLine("+OK hello", 0), new ReplyLine("250-a", 0), new ReplyLine("250 b", 0));
    }

    @Test
    void keepsAnIncompleteLineForLater() {
        assertThat(decode(false, "* OK ready\r\na1 O")).containsExactly(new ReplyLine("* OK ready", 0));
    }

    @Test
    void countsAndSkipsImapLiterals() {
        String fetch = "* 1 FETCH (BODY[] {12}\r\nab\r\ncd\r\n{}\r\n FLAGS (\\Seen))\r\na1 OK done\r\n";
        assertThat(decodeEverySplit(true, fetch))
                .containsExactly(
                        new ReplyLine("* 1 FETCH (BODY[] {12} FLAGS (\\Seen))", 12), new ReplyLine("a1 OK done", 0));
    }

    @Test
    void readsSeveralLiteralsInOneLineAndEmptyOnes() {
        String line = "* LIST {3}\r\nabc {0}\r\n {2}\r\nxy\r\n";
        assertThat(decodeEverySplit(true, line)).containsExactly(new ReplyLine("* LIST {3} {0} {2}", 5));
    }

    @Test
    void withoutLiteralsABraceIsText() {
        assertThat(decode(false, "+OK {3}\r\nabc\r\n"))
                .containsExactly(new ReplyLine("+OK {3}", 0), new ReplyLine("abc", 0));
    }

    @Test
    void refusesAnEndlessLine() {
        EmbeddedChannel ch = new EmbeddedChannel(new ReplyDecoder(true));
        byte[] junk = new byte[ReplyDecoder.MAX_LINE + 10];
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.wrappedBuffer(junk)))
                .isInstanceOf(TooLongFrameException.class);
        ch.finishAndReleaseAll();
    }

    @Test
    void findsLiteralSizes() {
        assertThat(ReplyDecoder.literalSize("* 1 FETCH (BODY[] {123}")).isEqualTo(123);
        assertThat(ReplyDecoder.literalSize("~{7}")).isEqualTo(7);
        assertThat(ReplyDecoder.literalSize("a1 OK {x}")).isEqualTo(-1);
        assertThat(ReplyDecoder.literalSize("a1 OK {}")).isEqualTo(-1);
        assertThat(ReplyDecoder.literalSize("a1 OK done")).isEqualTo(-1);
    }
}
