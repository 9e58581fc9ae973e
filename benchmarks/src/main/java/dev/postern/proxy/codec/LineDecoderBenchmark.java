package dev.postern.proxy.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
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
 * The line decoder (backend dialogues, POP3 and SMTP front ends): {@code lines} pipelined command lines arriving in
 * one buffer ({@code chunk} 0), or the same bytes in {@code chunk}-byte pieces (a slow client, or TLS records split
 * mid-line).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class LineDecoderBenchmark {
    @Param({"1", "16"})
    public int lines;

    @Param({"0", "7"})
    public int chunk;

    private EmbeddedChannel channel;
    private ByteBuf input;

    @Setup(Level.Trial)
    public void setUp() {
        channel = new EmbeddedChannel(new LineDecoder(8192));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            sb.append("RCPT TO:<user").append(i).append("@example.test> NOTIFY=NEVER\r\n");
        }
        input = Unpooled.directBuffer().writeBytes(sb.toString().getBytes(StandardCharsets.US_ASCII));
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
        while (channel.readInbound() != null) {
            count++;
        }
        return count;
    }
}
