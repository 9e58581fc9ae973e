package dev.postern.proxy.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The relay decoder in its three modes, every input fed whole, split in two at every byte boundary, and one byte at a
 * time. What comes out is written as a transcript: {@code L:} a command line, {@code D:} the message bytes passed on
 * (consecutive slices joined), and the markers. A test session switches modes as the real one does: {@code DATA}
 * starts data mode, {@code BDAT n} a chunk ({@code BDAT n SKIP}: a skipped one).
 */
class SmtpDecoderTest {
    private static final int LINE = 512;

    /** Plays the session: records what the decoder emits and switches its mode after DATA and BDAT. */
    private static final class Session extends ChannelInboundHandlerAdapter {
        final List<String> transcript = new ArrayList<>();
        private final StringBuilder data = new StringBuilder();
        private final SmtpDecoder decoder;

        Session(SmtpDecoder decoder) {
            this.decoder = decoder;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof SmtpInput.Data d) {
                try {
                    data.append(d.content().toString(StandardCharsets.ISO_8859_1));
                } finally {
                    d.release();
                }
                return;
            }
            flushData();
            if (msg instanceof String line) {
                transcript.add("L:" + line);
                String[] w = line.split(" ");
                if (w[0].equals("DATA")) {
                    decoder.startData();
                } else if (w[0].equals("BDAT")) {
                    decoder.startChunk(Long.parseLong(w[1]), w.length > 2 && w[2].equals("SKIP"));
                }
            } else {
                transcript.add(msg.toString());
            }
        }

        void flushData() {
            if (data.length() > 0) {
                transcript.add("D:" + data);
                data.setLength(0);
            }
        }
    }

    private enum Feed {
        WHOLE,
        SPLIT,
        BYTES
    }

    /** Every way of feeding {@code input}: the transcripts, which must all be the same. */
    private static List<List<String>> decodeAllWays(String input, boolean normalize) {
        byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
        List<List<String>> runs = new ArrayList<>();
        runs.add(decode(bytes, normalize, Feed.WHOLE, 0));
        for (int split = 1; split < bytes.length; split++) {
            runs.add(decode(bytes, normalize, Feed.SPLIT, split));
        }
        runs.add(decode(bytes, normalize, Feed.BYTES, 0));
        return runs;
    }

    private static List<String> decode(byte[] bytes, boolean normalize, Feed feed, int split) {
        SmtpDecoder decoder = new SmtpDecoder(LINE, normalize);
        Session session = new Session(decoder);
        EmbeddedChannel ch = new EmbeddedChannel(decoder, session);
        try {
            switch (feed) {
                case WHOLE -> ch.writeInbound(Unpooled.wrappedBuffer(bytes));
                case SPLIT -> {
                    ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, 0, split)));
                    ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, split, bytes.length)));
                }
                case BYTES -> {
                    for (byte b : bytes) {
                        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
                    }
                }
            }
        } catch (DecoderException e) {
            session.transcript.add("ERROR:" + e.getClass().getSimpleName());
        } finally {
            session.flushData();
            ch.finishAndReleaseAll();
        }
        return session.transcript;
    }

    private static void assertEveryWay(String input, boolean normalize, String... transcript) {
        List<List<String>> runs = decodeAllWays(input, normalize);
        for (int i = 0; i < runs.size(); i++) {
            assertThat(runs.get(i))
                    .as("run %d of %s", i, input.replace("\r", "<CR>").replace("\n", "<LF>"))
                    .containsExactly(transcript);
        }
    }

    // ---- commands

    @Test
    void commandsAreLinesWithoutTheirEnding() {
        assertEveryWay(
                "EHLO a.example\r\nMAIL FROM:<a@b>\nNOOP\r\nRSE",
                false,
                "L:EHLO a.example",
                "L:MAIL FROM:<a@b>",
                "L:NOOP");
    }

    @Test
    void aCommandLineHasABound() {
        String input = "NOOP " + "x".repeat(LINE) + "\r\n";
        List<String> transcript = decode(input.getBytes(StandardCharsets.US_ASCII), false, Feed.WHOLE, 0);
        assertThat(transcript).containsExactly("ERROR:LineTooLongException");
    }

    // ---- DATA

    @Test
    void dataEndsAtCrLfDotCrLfAndCommandsFollow() {
        assertEveryWay(
                "DATA\r\nSubject: x\r\n\r\nline\r\n.\r\nQUIT\r\n",
                false,
                "L:DATA",
                "D:Subject: x\r\n\r\nline\r\n",
                "DATA_END",
                "L:QUIT");
    }

    @Test
    void anEmptyMessageEndsAtOnce() {
        assertEveryWay("DATA\r\n.\r\nNOOP\r\n", false, "L:DATA", "DATA_END", "L:NOOP");
    }

    @Test
    void dotStuffingIsPassedOnAsItIs() {
        assertEveryWay(
                "DATA\r\n..\r\n...x\r\n.y\r\nend.\r\n.\r\n",
                false,
                "L:DATA",
                "D:..\r\n...x\r\n.y\r\nend.\r\n",
                "DATA_END");
    }

    @Test
    void longLinesAreNotBounded() {
        String line = "x".repeat(100_000);
        List<String> transcript =
                decode(("DATA\r\n" + line + "\r\n.\r\n").getBytes(StandardCharsets.US_ASCII), false, Feed.WHOLE, 0);
        assertThat(transcript).containsExactly("L:DATA", "D:" + line + "\r\n", "DATA_END");
    }

    @Test
    void rejectModeStopsAtTheFirstBareLineFeed() {
        assertEveryWay("DATA\r\nok\r\nbad\n.\r\nMAIL FROM:<x@y>\r\n", false, "L:DATA", "D:ok\r\nbad", "BARE_LF");
        assertEveryWay("DATA\r\nok\r\n.\nMAIL FROM:<x@y>\r\n", false, "L:DATA", "D:ok\r\n", "BARE_LF");
        assertEveryWay("DATA\r\n\n", false, "L:DATA", "BARE_LF");
    }

    @Test
    void rejectModeStopsAtTheFirstBareCarriageReturn() {
        assertEveryWay("DATA\r\nok\r\nbad\r.\r\nQUIT\r\n", false, "L:DATA", "D:ok\r\nbad", "BARE_CR");
        assertEveryWay("DATA\r\nok\r\n.\rQUIT\r\n", false, "L:DATA", "D:ok\r\n", "BARE_CR");
        assertEveryWay("DATA\r\nx\r\r\n", false, "L:DATA", "D:x", "BARE_CR");
    }

    /** The smuggling sequences: never an end of data; in normalize mode the content the client sent, stuffed. */
    @Test
    void normalizeModeNeverTurnsASmugglingSequenceIntoAnEnd() {
        String after = "MAIL FROM:<e@x>\r\n.\r\n";
        assertEveryWay(
                "DATA\r\nbody\n.\r\n" + after, true, "L:DATA", "D:body\r\n..\r\nMAIL FROM:<e@x>\r\n", "DATA_END");
        assertEveryWay("DATA\r\nbody\n.\n" + after, true, "L:DATA", "D:body\r\n..\r\nMAIL FROM:<e@x>\r\n", "DATA_END");
        assertEveryWay("DATA\r\nbody\r\n.\n" + after, true, "L:DATA", "D:body\r\n\r\nMAIL FROM:<e@x>\r\n", "DATA_END");
        assertEveryWay(
                "DATA\r\nbody\r.\r\n" + after, true, "L:DATA", "D:body\r\n..\r\nMAIL FROM:<e@x>\r\n", "DATA_END");
        assertEveryWay("DATA\r\nbody\r\n.\r" + after, true, "L:DATA", "D:body\r\n\r\nMAIL FROM:<e@x>\r\n", "DATA_END");
        assertEveryWay("DATA\r\nbody\r.\r" + after, true, "L:DATA", "D:body\r\n..\r\nMAIL FROM:<e@x>\r\n", "DATA_END");
    }

    @Test
    void normalizeModeMakesEveryLineEndCrLf() {
        assertEveryWay(
                "DATA\r\na\nb\rc\r\n\n.x\n\r\n.\r\n", true, "L:DATA", "D:a\r\nb\r\nc\r\n\r\n..x\r\n\r\n", "DATA_END");
    }

    // ---- BDAT

    @Test
    void aChunkIsExactlyItsSizeWhateverItHolds() {
        assertEveryWay(
                "BDAT 12\r\n.\r\nQUIT\r\n.\r\nNOOP\r\n",
                false,
                "L:BDAT 12",
                "D:.\r\nQUIT\r\n.\r\n",
                "CHUNK_END",
                "L:NOOP");
    }

    @Test
    void aSkippedChunkIsNeverReadAsCommands() {
        assertEveryWay("BDAT 6 SKIP\r\nQUIT\r\nNOOP\r\n", false, "L:BDAT 6 SKIP", "CHUNK_END", "L:NOOP");
        assertEveryWay("BDAT 6 SKIP\r\nbare\n\nNOOP\r\n", false, "L:BDAT 6 SKIP", "CHUNK_END", "L:NOOP");
    }

    @Test
    void rejectModeRefusesBareLineEndsInChunksToo() {
        assertEveryWay("BDAT 8\r\nok\r\nbad\n", false, "L:BDAT 8", "D:ok\r\nbad", "BARE_LF");
        assertEveryWay("BDAT 3\r\nok\rBDAT 3\r\nxy\n", false, "L:BDAT 3", "D:ok\r", "CHUNK_END", "L:BDAT 3", "BARE_CR");
    }

    /**
     * Found by SmtpDecoderFuzzTest (found-bdat-bare-cr-split): a CR that ended one read of a chunk was passed on before
     * its next byte showed it bare, so the backend got it or not depending on how the client's bytes were cut.
     */
    @Test
    void aBareCrInAChunkIsNeverPassedOnWhereverTheReadsEnd() {
        assertEveryWay("BDAT 3\r\na\rx", false, "L:BDAT 3", "D:a", "BARE_CR");
        assertEveryWay("BDAT 4\r\na\r\nb", false, "L:BDAT 4", "D:a\r\nb", "CHUNK_END");
    }

    @Test
    void normalizeModeLeavesChunksAlone() {
        assertEveryWay("BDAT 6\r\na\nb\rc\n", true, "L:BDAT 6", "D:a\nb\rc\n", "CHUNK_END");
    }
}
