package dev.postern.proxy.smtp.submission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.codec.CommandDecoder;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The client-side line decoder, fed every input whole and split at every byte boundary. */
class SmtpLineDecoderTest {
    private static final int LINE = 512;
    private static final int SASL = 2048;

    /** What a run produced after the lines: the decoder refused a line as too long. */
    private static final String TOO_LONG = "<too long>";

    /**
     * Feeds {@code input} whole, then split in two at every position, and returns the lines of each run ({@link
     * #TOO_LONG} last when the decoder refused a line).
     */
    private static List<List<String>> decodeAllWays(String input, Consumer<SmtpLineDecoder> setup) {
        byte[] bytes = input.getBytes(StandardCharsets.UTF_8);
        List<List<String>> runs = new ArrayList<>();
        for (int split = 0; split <= bytes.length; split++) {
            SmtpLineDecoder decoder = new SmtpLineDecoder(LINE, SASL);
            setup.accept(decoder);
            EmbeddedChannel ch = new EmbeddedChannel(decoder);
            List<String> lines = new ArrayList<>();
            try {
                if (split == 0 || split == bytes.length) {
                    ch.writeInbound(Unpooled.wrappedBuffer(bytes));
                } else {
                    ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, 0, split)));
                    drain(ch, lines);
                    ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, split, bytes.length)));
                }
                drain(ch, lines);
            } catch (CommandDecoder.LineTooLongException e) {
                drain(ch, lines);
                lines.add(TOO_LONG);
            } finally {
                ch.finishAndReleaseAll();
            }
            runs.add(lines);
        }
        return runs;
    }

    private static void drain(EmbeddedChannel ch, List<String> lines) {
        String s;
        while ((s = ch.readInbound()) != null) {
            lines.add(s);
        }
    }

    private static List<List<String>> decodeAllWays(String input) {
        return decodeAllWays(input, d -> {});
    }

    @Test
    void splitsPipelinedCommandsAtCrlfWhereverTheBytesBreak() {
        String input = "EHLO client.example\r\nAUTH PLAIN AGFsaWNlAHB3\r\nMAIL FROM:<a@b>\r\nNOOP\r\n";
        for (List<String> lines : decodeAllWays(input)) {
            assertThat(lines)
                    .containsExactly("EHLO client.example", "AUTH PLAIN AGFsaWNlAHB3", "MAIL FROM:<a@b>", "NOOP");
        }
    }

    @Test
    void acceptsBareLfAndKeepsAnIncompleteLineBuffered() {
        for (List<String> lines : decodeAllWays("NOOP\nRSET\r\nQUI")) {
            assertThat(lines).containsExactly("NOOP", "RSET");
        }
    }

    @Test
    void keepsUtf8AndEmptyLines() {
        for (List<String> lines : decodeAllWays("EHLO b\u00fccher.example\r\n\r\n")) {
            assertThat(lines).containsExactly("EHLO b\u00fccher.example", "");
        }
    }

    @Test
    void skipsABdatChunkBeforeDecodingAgain() {
        String input = "0123456789AUTH LOGIN\r\nNOOP\r\n";
        for (List<String> lines : decodeAllWays(input, d -> d.skip(15))) {
            assertThat(lines).containsExactly("LOGIN", "NOOP");
        }
    }

    @Test
    void refusesACommandLineLongerThanTheLimit() {
        for (List<String> lines : decodeAllWays("NOOP\r\nNOOP " + "x".repeat(LINE) + "\r\nRSET\r\n")) {
            assertThat(lines).containsExactly("NOOP", TOO_LONG);
        }
    }

    @Test
    void acceptsALineOfExactlyTheLimitIncludingCrlf() {
        String line = "NOOP " + "x".repeat(LINE - 7);
        for (List<String> lines : decodeAllWays(line + "\r\n")) {
            assertThat(lines).containsExactly(line);
        }
    }

    @Test
    void anAuthLineMayBeAsLongAsASaslLine() {
        String auth = "auth XOAUTH2 " + "A".repeat(SASL - 15);
        for (List<String> lines : decodeAllWays(auth + "\r\nNOOP\r\n")) {
            assertThat(lines).containsExactly(auth, "NOOP");
        }
        for (List<String> lines : decodeAllWays("AUTH XOAUTH2 " + "A".repeat(SASL) + "\r\n")) {
            assertThat(lines).containsExactly(TOO_LONG);
        }
    }

    @Test
    void inSaslModeEveryLineMayBeAsLongAsASaslLine() {
        String response = "B".repeat(SASL - 2);
        for (List<String> lines : decodeAllWays(response + "\r\n", d -> d.saslMode(true))) {
            assertThat(lines).containsExactly(response);
        }
        for (List<String> lines : decodeAllWays("B".repeat(SASL) + "\r\n", d -> d.saslMode(true))) {
            assertThat(lines).containsExactly(TOO_LONG);
        }
    }

    @Test
    void aNonAuthLineLongerThanTheCommandLimitIsRefusedEvenIfItWouldFitASaslLine() {
        for (List<String> lines : decodeAllWays("AUTX " + "x".repeat(LINE) + "\r\n")) {
            assertThat(lines).containsExactly(TOO_LONG);
        }
    }
}
