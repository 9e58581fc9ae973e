package dev.postern.proxy.frontend;

import dev.postern.proxy.imap.ImapDecoder;
import dev.postern.proxy.pop3.Pop3Decoder;
import dev.postern.proxy.smtp.submission.SmtpLineDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pre-auth command decoders of the three front ends, on what a client sends before login: a pipelined burst
 * (IMAP: CAPABILITY, ID with a parameter list, LOGIN with quoted strings, and a LOGIN whose password is a LITERAL+
 * literal; POP3: CAPA, USER, PASS; SMTP: EHLO, AUTH PLAIN with its initial response, NOOP) in one buffer ({@code
 * chunk} 0), or the same bytes in {@code chunk}-byte pieces (TLS records or a slow client splitting lines). One
 * operation decodes the whole burst; the result is the number of commands.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class ProtocolDecoderBenchmark {
    @Param({"imap", "pop3", "smtp"})
    public String protocol;

    @Param({"0", "7"})
    public int chunk;

    private EmbeddedChannel channel;
    private ByteBuf input;
    private int commands;

    @Setup(Level.Trial)
    public void setUp() {
        ChannelHandler decoder;
        String burst;
        switch (protocol) {
            case "imap" -> {
                decoder = new ImapDecoder(8192, 65536, 65536);
                burst = "a1 CAPABILITY\r\n"
                        + "a2 ID (\"name\" \"Thunderbird\" \"version\" \"128.3.0\" \"os\" \"Linux\")\r\n"
                        + "a3 LOGIN \"alice@example.test\" \"correct horse battery\"\r\n"
                        + "a4 LOGIN alice@example.test {21+}\r\ncorrect horse battery\r\n";
                commands = 4;
            }
            case "pop3" -> {
                decoder = new Pop3Decoder(512, 16384);
                burst = "CAPA\r\nUSER alice@example.test\r\nPASS correct horse battery\r\n";
                commands = 3;
            }
            case "smtp" -> {
                decoder = new SmtpLineDecoder(512, 16384);
                burst = "EHLO client.example.test\r\n"
                        + "AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABjb3JyZWN0IGhvcnNlIGJhdHRlcnk=\r\n"
                        + "NOOP\r\n";
                commands = 3;
            }
            default -> throw new IllegalArgumentException(protocol);
        }
        channel = new EmbeddedChannel(decoder);
        input = Unpooled.directBuffer().writeBytes(burst.getBytes(StandardCharsets.US_ASCII));
        int decoded = decode();
        if (decoded != commands) {
            throw new IllegalStateException(protocol + ": decoded " + decoded + " commands, expected " + commands);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        channel.finishAndReleaseAll();
        input.release();
    }

    @Benchmark
    public int decode() {
        int n = input.readableBytes();
        if (chunk == 0) {
            channel.writeInbound(input.retainedDuplicate());
        } else {
            for (int i = 0; i < n; i += chunk) {
                channel.writeInbound(input.retainedSlice(i, Math.min(chunk, n - i)));
            }
        }
        int count = 0;
        Object m;
        while ((m = channel.readInbound()) != null) {
            io.netty.util.ReferenceCountUtil.release(m);
            count++;
        }
        return count;
    }
}
