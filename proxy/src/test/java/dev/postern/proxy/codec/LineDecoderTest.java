package dev.postern.proxy.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineDecoderTest {
    private static final String INPUT = "a1 CAPABILITY\r\nUSER bob\n\r\nlast line é\r\n";
    private static final List<String> LINES = List.of("a1 CAPABILITY", "USER bob", "", "last line é");

    private static List<String> decode(EmbeddedChannel ch) {
        List<String> out = new ArrayList<>();
        String s;
        while ((s = ch.readInbound()) != null) {
            out.add(s);
        }
        return out;
    }

    @Test
    void decodesWholeAndSplitAtEveryByte() {
        byte[] bytes = INPUT.getBytes(StandardCharsets.UTF_8);
        for (int split = 0; split <= bytes.length; split++) {
            EmbeddedChannel ch = new EmbeddedChannel(new LineDecoder(100));
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, 0, split));
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, split, bytes.length - split));
            assertThat(decode(ch)).as("split at %d", split).isEqualTo(LINES);
            assertThat(ch.finish()).isFalse();
        }
    }

    @Test
    void aLineOverTheBoundFailsWithoutBufferingIt() {
        EmbeddedChannel ch = new EmbeddedChannel(new LineDecoder(16));
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.copiedBuffer("x".repeat(40), StandardCharsets.US_ASCII)))
                .isInstanceOf(CommandDecoder.LineTooLongException.class);
        ch.finishAndReleaseAll();
    }

    @Test
    void aPausedDecoderKeepsBytesRawUntilResumed() {
        LineDecoder decoder = new LineDecoder(100);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        decoder.pause();
        ch.writeInbound(Unpooled.copiedBuffer("one\r\ntwo\r\n", StandardCharsets.US_ASCII));
        assertThat(decode(ch)).isEmpty();
        assertThat(decoder.bufferedBytes()).isEqualTo(10);
        decoder.resume();
        assertThat(decode(ch)).containsExactly("one", "two");
        ch.finishAndReleaseAll();
    }

    @Test
    void discardDropsWhatFollowedACommand() {
        LineDecoder decoder = new LineDecoder(100);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        decoder.pause();
        ch.writeInbound(Unpooled.copiedBuffer("injected\r\n", StandardCharsets.US_ASCII));
        assertThat(decoder.discardBuffered()).isEqualTo(10);
        decoder.resume();
        assertThat(decode(ch)).isEmpty();
        ch.finishAndReleaseAll();
    }
}
