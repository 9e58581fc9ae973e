package dev.postern.proxy.imap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.codec.CommandDecoder;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The IMAP command decoder on its own. Every input is fed whole, split in two at every byte boundary, and one byte at
 * a time; each way must give the same requests.
 */
class ImapDecoderTest {
    private static final int LINE = 64;
    private static final int SASL_LINE = 256;
    private static final int LITERAL = 32;

    /** What a feed produced: the requests, and "LineTooLong" when the decoder gave up. */
    private static List<Object> feed(byte[]... chunks) {
        ImapDecoder decoder = new ImapDecoder(LINE, SASL_LINE, LITERAL);
        List<Object> events = new ArrayList<>();
        // stands in for the session: an AUTHENTICATE without initial response is followed by a SASL line
        ChannelInboundHandlerAdapter session = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                events.add(msg);
                if (msg instanceof ImapRequest.Command c
                        && c.name().equals("AUTHENTICATE")
                        && c.args().size() == 1) {
                    decoder.expectSaslResponse();
                }
            }
        };
        EmbeddedChannel ch = new EmbeddedChannel(decoder, session);
        try {
            for (byte[] chunk : chunks) {
                try {
                    ch.writeInbound(Unpooled.wrappedBuffer(chunk));
                } catch (CommandDecoder.LineTooLongException e) {
                    events.add("LineTooLong");
                    break;
                }
            }
        } finally {
            // what the decoder makes of leftovers when the channel closes is not what a live client would get
            List<Object> seen = List.copyOf(events);
            ch.finishAndReleaseAll();
            events.clear();
            events.addAll(seen);
        }
        return events;
    }

    /** Feeds {@code input} whole, in two pieces at every boundary, and bytewise; all must give {@code expected}. */
    private static void assertDecodes(String input, Object... expected) {
        assertDecodes(input.getBytes(StandardCharsets.UTF_8), expected);
    }

    private static void assertDecodes(byte[] bytes, Object... expected) {
        List<Object> want = Arrays.asList(expected);
        assertThat(feed(bytes)).as("whole").isEqualTo(want);
        for (int i = 1; i < bytes.length; i++) {
            byte[] a = Arrays.copyOfRange(bytes, 0, i);
            byte[] b = Arrays.copyOfRange(bytes, i, bytes.length);
            assertThat(feed(a, b)).as("split at %d", i).isEqualTo(want);
        }
        byte[][] single = new byte[bytes.length][];
        for (int i = 0; i < bytes.length; i++) {
            single[i] = new byte[] {bytes[i]};
        }
        assertThat(feed(single)).as("one byte at a time").isEqualTo(want);
    }

    private static ImapRequest.Command command(String tag, String name, ImapArg... args) {
        return new ImapRequest.Command(tag, name, List.of(args));
    }

    private static ImapArg atom(String v) {
        return ImapArg.atom(v);
    }

    private static ImapArg quoted(String v) {
        return ImapArg.quoted(v);
    }

    private static ImapArg literal(String v) {
        return ImapArg.literal(v);
    }

    private static final ImapArg OPEN = new ImapArg(ImapArg.Kind.LIST_START, "");
    private static final ImapArg CLOSE = new ImapArg(ImapArg.Kind.LIST_END, "");

    @Test
    void atomsAndCommandNameInAnyCase() {
        assertDecodes(
                "a1 login alice@example.test s3cret!\r\n",
                command("a1", "LOGIN", atom("alice@example.test"), atom("s3cret!")));
    }

    @Test
    void bareLineFeedEndsALineToo() {
        assertDecodes("a1 NOOP\nb CAPABILITY\n", command("a1", "NOOP"), command("b", "CAPABILITY"));
    }

    @Test
    void quotedStringsWithEscapes() {
        assertDecodes(
                "a2 LOGIN \"al ice\" \"p\\\"w\\\\d {5}\"\r\n",
                command("a2", "LOGIN", quoted("al ice"), quoted("p\"w\\d {5}")));
    }

    @Test
    void emptyQuotedStringAndUtf8() {
        assertDecodes("t LOGIN \"\" \"pässwörd\"\r\n", command("t", "LOGIN", quoted(""), quoted("pässwörd")));
    }

    @Test
    void synchronizingLiteralsAskForContinuationEachTime() {
        assertDecodes(
                "a3 LOGIN {5}\r\nalice {4}\r\np\r\nw\r\n",
                new ImapRequest.LiteralWanted("a3", "LOGIN"),
                new ImapRequest.LiteralWanted("a3", "LOGIN"),
                command("a3", "LOGIN", literal("alice"), literal("p\r\nw")));
    }

    @Test
    void nonSynchronizingLiteralsNeedNoContinuation() {
        assertDecodes(
                "a4 LOGIN {5+}\r\nalice {3+}\r\npwd\r\n", command("a4", "LOGIN", literal("alice"), literal("pwd")));
    }

    @Test
    void literalSizeCountsBytesNotCharacters() {
        String password = "pä\"\\ {ß}";
        int bytes = password.getBytes(StandardCharsets.UTF_8).length;
        assertDecodes(
                "a LOGIN alice {" + bytes + "+}\r\n" + password + "\r\n",
                command("a", "LOGIN", atom("alice"), literal(password)));
    }

    @Test
    void emptyLiteral() {
        assertDecodes(
                "a LOGIN {0}\r\n {0+}\r\n\r\n",
                new ImapRequest.LiteralWanted("a", "LOGIN"), command("a", "LOGIN", literal(""), literal("")));
    }

    @Test
    void literalsInsideAListAndNil() {
        assertDecodes(
                "a5 ID (\"name\" {3+}\r\nfoo \"version\" NIL)\r\n",
                command("a5", "ID", OPEN, quoted("name"), literal("foo"), quoted("version"), atom("NIL"), CLOSE));
    }

    @Test
    void pipelinedCommandsComeOneByOne() {
        assertDecodes(
                "a NOOP\r\nb LOGIN {1+}\r\nx y\r\nc LOGOUT\r\n",
                command("a", "NOOP"),
                command("b", "LOGIN", literal("x"), atom("y")),
                command("c", "LOGOUT"));
    }

    @Test
    void invalidTagsGetAnUntaggedError() {
        assertDecodes(
                "a+b NOOP\r\n* NOOP\r\nx%y NOOP\r\n\"q\" NOOP\r\nok NOOP\r\n",
                new ImapRequest.Malformed(null, "Invalid tag", false),
                new ImapRequest.Malformed(null, "Invalid tag", false),
                new ImapRequest.Malformed(null, "Invalid tag", false),
                new ImapRequest.Malformed(null, "Invalid tag", false),
                command("ok", "NOOP"));
    }

    @Test
    void emptyLinesAndMissingCommands() {
        assertDecodes(
                "\r\nabc\r\nabc \r\n",
                new ImapRequest.Malformed(null, "Empty command line", false),
                new ImapRequest.Malformed("abc", "Missing command", false),
                new ImapRequest.Malformed("abc", "Invalid command name", false));
    }

    @Test
    void badQuotingIsTaggedBad() {
        assertDecodes(
                "a LOGIN \"x\\y\" z\r\nb LOGIN \"open\r\nc LOGIN a\\b c\r\n",
                new ImapRequest.Malformed("a", "Invalid escape in quoted string", false),
                new ImapRequest.Malformed("b", "Unterminated quoted string", false),
                new ImapRequest.Malformed("c", "Invalid characters in atom", false));
    }

    @Test
    void literalBytesOfAMalformedCommandAreSkippedNotExecuted() {
        assertDecodes(
                "bad+tag LOGIN {9+}\r\nc LOGOUT\r\nd NOOP\r\n",
                new ImapRequest.Malformed(null, "Invalid tag", false),
                command("d", "NOOP"));
    }

    @Test
    void aMalformedCommandWithASynchronizingLiteralEndsAtOnce() {
        // the client waits for "+", gets the BAD instead, and does not send the literal
        assertDecodes(
                "a LOGIN \"x\\y\" {5}\r\nb NOOP\r\n",
                new ImapRequest.Malformed("a", "Invalid escape in quoted string", false), command("b", "NOOP"));
    }

    @Test
    void oversizeSynchronizingLiteralIsRefusedBeforeTheClientSendsIt() {
        assertDecodes(
                "a LOGIN {33}\r\nb NOOP\r\n",
                new ImapRequest.Malformed("a", "Literal too big", false),
                command("b", "NOOP"));
    }

    @Test
    void hugeLiteralSizesDoNotOverflow() {
        assertDecodes(
                "a LOGIN {99999999999999999999999}\r\nb NOOP\r\n",
                new ImapRequest.Malformed("a", "Literal too big", false),
                command("b", "NOOP"));
    }

    @Test
    void oversizeNonSynchronizingLiteralIsFatal() {
        assertDecodes("a LOGIN {33+}\r\n", new ImapRequest.Malformed("a", "Literal too big", true));
    }

    @Test
    void theLiteralsOfOneCommandShareTheBound() {
        assertDecodes(
                "a LOGIN {20+}\r\n12345678901234567890 {20}\r\nb NOOP\r\n",
                new ImapRequest.Malformed("a", "Literals too big", false),
                command("b", "NOOP"));
    }

    @Test
    void oversizeLineWithoutLineFeed() {
        assertDecodes("a NOOP " + "x".repeat(LINE), "LineTooLong");
    }

    @Test
    void oversizeLineWithLineFeedBeyondTheBound() {
        assertDecodes("a NOOP " + "x".repeat(LINE) + "\r\nb NOOP\r\n", "LineTooLong");
    }

    @Test
    void lineJustWithinTheBound() {
        // the bound counts the line ending too
        String arg = "x".repeat(LINE - "a NOOP \r\n".length());
        assertDecodes("a NOOP " + arg + "\r\n", command("a", "NOOP", atom(arg)));
    }

    @Test
    void eachLineOfACommandWithLiteralsHasTheBound() {
        String arg = "y".repeat(LINE - 16);
        assertDecodes(
                "a ID (" + arg + " {1+}\r\nz " + arg + ")\r\n",
                command("a", "ID", OPEN, atom(arg), literal("z"), atom(arg), CLOSE));
    }

    @Test
    void authenticateInitialResponseMayBeAsLongAsASaslLine() {
        String token = "QUJD".repeat((SASL_LINE - 40) / 4);
        assertDecodes(
                "a AUTHENTICATE XOAUTH2 " + token + "\r\n", command("a", "AUTHENTICATE", atom("XOAUTH2"), atom(token)));
        assertDecodes("a AUTHENTICATE XOAUTH2 " + token + "QUJD".repeat(20) + "\r\n", "LineTooLong");
        assertDecodes("a NOTAUTHENTICATE XOAUTH2 " + token + "\r\n", "LineTooLong");
    }

    /** Found by ImapDecoderFuzzTest (found-long-tag-authenticate): the bound depended on how the line arrived. */
    @Test
    void anAuthenticateLineGetsTheSaslBoundHoweverItsTagArrives() {
        String tag = "t".repeat(LINE - 9);
        assertDecodes(
                tag + " AUTHENTICATE PLAIN AGFsaWNlAHB3\r\n",
                command(tag, "AUTHENTICATE", atom("PLAIN"), atom("AGFsaWNlAHB3")));
        // what follows the line's LF never makes a long first line an AUTHENTICATE
        String longLine = "x".repeat(LINE + 6);
        assertDecodes(longLine + "\na AUTHENTICATE PLAIN\r\n", "LineTooLong");
        assertDecodes(tag + " AUTHENTICATEX PLAIN AGFsaWNlAHB3\r\n", "LineTooLong");
    }

    @Test
    void saslResponseLinesAfterAuthenticate() {
        assertDecodes(
                "a AUTHENTICATE PLAIN\r\nAGFsaWNlAHB3\r\nb NOOP\r\n",
                command("a", "AUTHENTICATE", atom("PLAIN")),
                new ImapRequest.SaslResponse("AGFsaWNlAHB3"),
                command("b", "NOOP"));
    }

    @Test
    void saslCancelAndEmptyResponse() {
        assertDecodes(
                "a AUTHENTICATE PLAIN\r\n*\r\nb AUTHENTICATE XOAUTH2\r\n\r\n",
                command("a", "AUTHENTICATE", atom("PLAIN")),
                new ImapRequest.SaslResponse("*"),
                command("b", "AUTHENTICATE", atom("XOAUTH2")),
                new ImapRequest.SaslResponse(""));
    }

    @Test
    void saslLinesHaveTheirOwnBound() {
        String longLine = "A".repeat(SASL_LINE - 2);
        assertDecodes(
                "a AUTHENTICATE PLAIN\r\n" + longLine + "\r\n",
                command("a", "AUTHENTICATE", atom("PLAIN")),
                new ImapRequest.SaslResponse(longLine));
        assertDecodes(
                "a AUTHENTICATE PLAIN\r\n" + "A".repeat(SASL_LINE) + "\r\n",
                command("a", "AUTHENTICATE", atom("PLAIN")),
                "LineTooLong");
    }

    @Test
    void aLiteralLikeTextInsideAQuotedStringIsNotALiteral() {
        assertDecodes("a LOGIN u \"{5}\"\r\n", command("a", "LOGIN", atom("u"), quoted("{5}")));
    }

    @Test
    void nothingPastTheCommandIsConsumedWhilePaused() {
        ImapDecoder decoder = new ImapDecoder(LINE, SASL_LINE, LITERAL);
        List<Object> events = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(decoder, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                events.add(msg);
                decoder.pause(); // as the session does when a login starts
            }
        });
        try {
            ch.writeInbound(Unpooled.copiedBuffer("a LOGIN u p\r\nb SELECT INBOX\r\n", StandardCharsets.US_ASCII));
            assertThat(events).containsExactly(command("a", "LOGIN", atom("u"), atom("p")));
            assertThat(decoder.bufferedBytes()).isEqualTo("b SELECT INBOX\r\n".length());
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void argumentsNeverShowTheirContent() {
        ImapRequest.Command c = command("a", "LOGIN", atom("alice"), quoted("secret-password"));
        assertThat(c.toString()).doesNotContain("secret-password").doesNotContain("alice");
        assertThat(new ImapRequest.SaslResponse("c2VjcmV0").toString()).doesNotContain("c2VjcmV0");
    }
}
