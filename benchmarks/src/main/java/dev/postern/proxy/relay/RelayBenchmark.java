package dev.postern.proxy.relay;

import dev.postern.config.ConfigLoader;
import dev.postern.config.ListenerConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.file.Path;
import java.util.List;
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
 * The relay handler pair moving buffers between two embedded channels: one read batch of {@code reads} buffers of
 * {@code size} bytes from the backend, written to the client and flushed once (what a large FETCH does).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class RelayBenchmark {
    @Param({"64", "16384"})
    public int size;

    @Param({"1", "8"})
    public int reads;

    private EmbeddedChannel client;
    private EmbeddedChannel backend;
    private ByteBuf payload;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        ListenerConfig listener = ConfigLoader.parse(
                        """
                        listeners:
                          - {name: t, protocol: tcp, bind: "127.0.0.1:1", pool: p}
                        pools:
                          - {name: p, backends: [{address: "127.0.0.1:2"}]}
                        """,
                        Path.of("."))
                .listeners()
                .get(0);
        client = new EmbeddedChannel();
        backend = new EmbeddedChannel();
        Session session = new SessionRegistry(Metrics.NOOP).open(listener, client);
        session.attachBackend(backend, "p", "b1");
        Relay.splice(session, List.of());
        payload = PooledByteBufAllocator.DEFAULT.directBuffer(size).writeZero(size);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        client.finishAndReleaseAll();
        backend.finishAndReleaseAll();
        payload.release();
    }

    @Benchmark
    public int backendToClient() {
        for (int i = 0; i < reads; i++) {
            backend.pipeline().fireChannelRead(payload.retainedDuplicate());
        }
        backend.pipeline().fireChannelReadComplete();
        int n = 0;
        ByteBuf out;
        while ((out = client.readOutbound()) != null) {
            n += out.readableBytes();
            out.release();
        }
        return n;
    }
}
