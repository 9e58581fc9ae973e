package dev.postern.proxy.pop3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.proxy.codec.CommandDecoder;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The POP3 line decoder, fed each input whole, split at every byte boundary, and byte by byte. */
class Pop3DecoderTest {
    private static final int COMMAND_LIMIT = 32;
    private static final int SASL_LIMIT = 128;

    /** Feeds {@code input} in the given pieces and returns the decoded lines. */
    private static List<String> decode(Pop3Decoder decoder, List<byte[]> pieces) {
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        try {
            for (byte[] piece : pieces) {
                ch.writeInbound(Unpooled.wrappedBuffer(piece));
            }
            List<String> lines = new ArrayList<>();
            Object o;
            while ((o = ch.readInbound()) != null) {
                lines.add((String) o);
            }
            return lines;
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    /** Every way to cut {@code input} in two, plus whole and byte by byte. */
    private static List<List<byte[]>> splits(String input) {
        byte[] bytes = input.getBytes(StandardCharsets.UTF_8);
        List<List<byte[]>> all = new ArrayList<>();
        all.add(List.of(bytes));
        for (int i = 1; i < bytes.length; i++) {
            all.add(List.of(slice(bytes, 0, i), slice(bytes, i, bytes.length)));
        }
        List<byte[]> single = new ArrayList<>();
        for (int i = 0; i < bytes.length; i++) {
            single.add(slice(bytes, i, i + 1));
        }
        all.add(single);
        return all;
    }

    private static byte[] slice(byte[] b, int from, int to) {
        byte[] out = new byte[to - from];
        System.arraycopy(b, from, out, 0, out.length);
        return out;
    }

    @Test
    void decodesCrlfAndBareLfLinesAtEverySplit() {
        String input = "USER alice@example.test\r\nPASS a b c\nCAPA\r\nQUIT\r\n";
        for (List<byte[]> pieces : splits(input)) {
            assertThat(decode(new Pop3Decoder(COMMAND_LIMIT, SASL_LIMIT), pieces))
                    .containsExactly("USER alice@example.test", "PASS a b c", "CAPA", "QUIT");
        }
    }

    @Test
    void keepsAnIncompleteLineUntilItsEnd() {
        for (List<byte[]> pieces : splits("STAT\r\nLIS")) {
            assertThat(decode(new Pop3Decoder(COMMAND_LIMIT, SASL_LIMIT), pieces))
                    .containsExactly("STAT");
        }
    }

    @Test
    void refusesACommandLongerThanTheLineLimitAtEverySplit() {
        String input = "USER " + "x".repeat(COMMAND_LIMIT) + "\r\n";
        for (List<byte[]> pieces : splits(input)) {
            assertThatThrownBy(() -> decode(new Pop3Decoder(COMMAND_LIMIT, SASL_LIMIT), pieces))
                    .isInstanceOf(CommandDecoder.LineTooLongException.class);
        }
    }

    @Test
    void allowsAnAuthLineUpToTheSaslLimitAtEverySplit() {
        String token = "y".repeat(SASL_LIMIT - 20);
        String input = "auth XOAUTH2 " + token + "\r\nCAPA\r\n";
        for (List<byte[]> pieces : splits(input)) {
            assertThat(decode(new Pop3Decoder(COMMAND_LIMIT, SASL_LIMIT), pieces))
                    .containsExactly("auth XOAUTH2 " + token, "CAPA");
        }
    }

    @Test
    void refusesAnAuthLineLongerThanTheSaslLimit() {
        String input = "AUTH XOAUTH2 " + "y".repeat(SASL_LIMIT) + "\r\n";
        for (List<byte[]> pieces : splits(input)) {
            assertThatThrownBy(() -> decode(new Pop3Decoder(COMMAND_LIMIT, SASL_LIMIT), pieces))
                    .isInstanceOf(CommandDecoder.LineTooLongException.class);
        }
    }

    @Test
    void aSaslExchangeAllowsLongResponseLines() {
        String response = "z".repeat(SASL_LIMIT - 2);
        for (List<byte[]> pieces : splits(response + "\r\n")) {
            Pop3Decoder decoder = new Pop3Decoder(COMMAND_LIMIT, SASL_LIMIT);
            decoder.saslExchange(true);
            assertThat(decode(decoder, pieces)).containsExactly(response);
        }
    }

    @Test
    void afterTheExchangeTheCommandLimitHoldsAgain() {
        Pop3Decoder decoder = new Pop3Decoder(COMMAND_LIMIT, SASL_LIMIT);
        decoder.saslExchange(true);
        decoder.saslExchange(false);
        assertThatThrownBy(() -> decode(decoder, List.of(("z".repeat(COMMAND_LIMIT + 5) + "\r\n").getBytes())))
                .isInstanceOf(CommandDecoder.LineTooLongException.class);
    }

    @Test
    void parsesKeywordAndArgument() {
        assertThat(Pop3Command.parse("pass a b  c")).isEqualTo(new Pop3Command("PASS", "a b  c", true));
        assertThat(Pop3Command.parse("AUTH")).isEqualTo(new Pop3Command("AUTH", "", false));
        assertThat(Pop3Command.parse("AUTH ")).isEqualTo(new Pop3Command("AUTH", "", true));
        assertThat(Pop3Command.parse("PASS secret").toString()).doesNotContain("secret");
        assertThat(Pop3Command.parse("X".repeat(100)).keyword()).hasSize(Pop3Command.MAX_KEYWORD);
    }
}
