package dev.postern.proxy.managesieve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.proxy.codec.CommandDecoder;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The ManageSieve command decoder, fed each input whole, split at every byte boundary, and byte by byte. */
class ManageSieveDecoderTest {
    private static final int LINE = 64;
    private static final int SASL_LINE = 256;
    private static final int LITERALS = 100;

    private static ManageSieveDecoder decoder() {
        return new ManageSieveDecoder(LINE, SASL_LINE, LITERALS);
    }

    /**
     * Feeds {@code pieces}; {@code session} runs on the decoder first and after each request, inside the pipeline, as
     * a session sets the SASL mode before the next request is decoded.
     */
    private static List<SieveRequest> decode(
            ManageSieveDecoder decoder, List<byte[]> pieces, Consumer<ManageSieveDecoder> session) {
        List<SieveRequest> out = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(decoder, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                out.add((SieveRequest) msg);
                session.accept(decoder);
            }
        });
        try {
            session.accept(decoder);
            for (byte[] piece : pieces) {
                ch.writeInbound(Unpooled.wrappedBuffer(piece));
            }
            return out;
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    private static List<SieveRequest> decode(List<byte[]> pieces) {
        return decode(decoder(), pieces, d -> {});
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

    private static SieveRequest.Arg string(String v) {
        return new SieveRequest.Arg(true, v);
    }

    private static SieveRequest.Arg atom(String v) {
        return new SieveRequest.Arg(false, v);
    }

    @Test
    void decodesCommandsWithAtomsQuotedStringsAndEscapesAtEverySplit() {
        String input =
                "capability\r\nAuthenticate \"PLAIN\" \"AGFsaWNlAHB3\"\r\nNOOP \"a \\\"q\\\" \\\\ b\"\nLOGOUT\r\n";
        for (List<byte[]> pieces : splits(input)) {
            assertThat(decode(pieces))
                    .containsExactly(
                            new SieveRequest.Command("CAPABILITY", List.of()),
                            new SieveRequest.Command("AUTHENTICATE", List.of(string("PLAIN"), string("AGFsaWNlAHB3"))),
                            new SieveRequest.Command("NOOP", List.of(string("a \"q\" \\ b"))),
                            new SieveRequest.Command("LOGOUT", List.of()));
        }
    }

    @Test
    void decodesLiteralsSynchronizingOrNotWithTheRestOfTheCommandAtEverySplit() {
        String input = "PUTSCRIPT \"s\" {12+}\r\nkeep;\r\nstop;\r\nAUTHENTICATE \"PLAIN\" {4}\r\nAAAA\r\nX 7 {0+}\r\n"
                + " \"after\"\r\n";
        for (List<byte[]> pieces : splits(input)) {
            assertThat(decode(pieces))
                    .containsExactly(
                            new SieveRequest.Command("PUTSCRIPT", List.of(string("s"), string("keep;\r\nstop;"))),
                            new SieveRequest.Command("AUTHENTICATE", List.of(string("PLAIN"), string("AAAA"))),
                            new SieveRequest.Command("X", List.of(atom("7"), string(""), string("after"))));
        }
    }

    @Test
    void aSaslAnswerIsOneStringQuotedOrLiteralAtEverySplit() {
        String input = "\"dGVzdA==\"\r\n{4+}\r\nAAAA\r\n\"*\"\r\n";
        for (List<byte[]> pieces : splits(input)) {
            assertThat(decode(decoder(), pieces, ManageSieveDecoder::expectSaslResponse))
                    .containsExactly(
                            new SieveRequest.SaslResponse("dGVzdA=="),
                            new SieveRequest.SaslResponse("AAAA"),
                            new SieveRequest.SaslResponse("*"));
        }
    }

    @Test
    void aSaslAnswerThatIsNotOneStringIsMalformed() {
        ManageSieveDecoder d = decoder();
        d.expectSaslResponse();
        assertThat(decode(d, List.of("dGVzdA==\r\n".getBytes(StandardCharsets.US_ASCII)), x -> {}))
                .containsExactly(new SieveRequest.Malformed("Expected one string", false));
    }

    @Test
    void badSyntaxIsMalformedAndTheNextCommandStillDecodes() {
        for (String bad :
                new String[] {"NOOP \"open\r\n", "NOOP \"bad \\n escape\"\r\n", "\"NOOP\"\r\n", "NOOP a(b\r\n", "\r\n"
                }) {
            List<SieveRequest> out = decode(List.of((bad + "LOGOUT\r\n").getBytes(StandardCharsets.UTF_8)));
            assertThat(out).as(bad).hasSize(2);
            assertThat(out.get(0)).as(bad).isInstanceOf(SieveRequest.Malformed.class);
            assertThat(((SieveRequest.Malformed) out.get(0)).fatal()).isFalse();
            assertThat(out.get(1)).isEqualTo(new SieveRequest.Command("LOGOUT", List.of()));
        }
    }

    @Test
    void aLiteralOverTheBoundIsFatalBeforeItsBytesAreRead() {
        for (List<byte[]> pieces : splits("PUTSCRIPT \"s\" {101+}\r\n")) {
            assertThat(decode(pieces)).containsExactly(new SieveRequest.Malformed("Literal too big", true));
        }
        String two = "PUTSCRIPT {60+}\r\n" + "x".repeat(60) + " {41+}\r\n";
        assertThat(decode(List.of(two.getBytes(StandardCharsets.US_ASCII))))
                .containsExactly(new SieveRequest.Malformed("Literals too big", true));
    }

    @Test
    void aLineOverTheBoundIsRefusedButAuthenticateLinesMayBeLonger() {
        String longNoop = "NOOP \"" + "x".repeat(LINE) + "\"\r\n";
        for (List<byte[]> pieces : splits(longNoop)) {
            assertThatThrownBy(() -> decode(pieces)).isInstanceOf(CommandDecoder.LineTooLongException.class);
        }
        String token = "y".repeat(LINE * 2);
        String auth = "authenticate \"XOAUTH2\" \"" + token + "\"\r\n";
        assertThat(decode(List.of(auth.getBytes(StandardCharsets.US_ASCII))))
                .containsExactly(new SieveRequest.Command("AUTHENTICATE", List.of(string("XOAUTH2"), string(token))));
        String tooLong = "AUTHENTICATE \"XOAUTH2\" \"" + "z".repeat(SASL_LINE) + "\"\r\n";
        assertThatThrownBy(() -> decode(List.of(tooLong.getBytes(StandardCharsets.US_ASCII))))
                .isInstanceOf(CommandDecoder.LineTooLongException.class);
    }

    @Test
    void tooManyArgumentsAreMalformed() {
        String many = "X" + " a".repeat(ManageSieveDecoder.MAX_ARGS + 1) + "\r\n";
        assertThat(decode(List.of(many.getBytes(StandardCharsets.US_ASCII))))
                .containsExactly(new SieveRequest.Malformed("Too many arguments", false));
    }

    @Test
    void nothingAfterACompleteCommandIsConsumedWhilePaused() {
        ManageSieveDecoder d = decoder();
        EmbeddedChannel ch = new EmbeddedChannel(d);
        try {
            ch.writeInbound(Unpooled.copiedBuffer("STARTTLS\r\n", StandardCharsets.US_ASCII));
            assertThat((Object) ch.readInbound()).isEqualTo(new SieveRequest.Command("STARTTLS", List.of()));
            d.pause();
            ch.writeInbound(Unpooled.copiedBuffer("AUTHENTICATE \"PLAIN\" \"x\"\r\n", StandardCharsets.US_ASCII));
            assertThat((Object) ch.readInbound()).isNull();
            assertThat(d.bufferedBytes()).isEqualTo(26);
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
