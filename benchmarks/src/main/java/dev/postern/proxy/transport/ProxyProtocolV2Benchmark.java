package dev.postern.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Encoding the PROXY v2 header sent at the start of every backend connection that wants one. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class ProxyProtocolV2Benchmark {
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final InetSocketAddress client4 = new InetSocketAddress("192.0.2.10", 51234);
    private final InetSocketAddress local4 = new InetSocketAddress("198.51.100.1", 993);
    private final InetSocketAddress client6 = new InetSocketAddress("2001:db8::10", 51234);
    private final InetSocketAddress local6 = new InetSocketAddress("2001:db8::1", 993);

    @Benchmark
    public int ipv4Plain() {
        ByteBuf b = ProxyProtocolV2.encode(alloc, client4, local4, null, null);
        int n = b.readableBytes();
        b.release();
        return n;
    }

    @Benchmark
    public int ipv4WithTls() {
        ByteBuf b = ProxyProtocolV2.encode(alloc, client4, local4, "TLSv1.3", "TLS_AES_128_GCM_SHA256");
        int n = b.readableBytes();
        b.release();
        return n;
    }

    @Benchmark
    public int ipv6WithTls() {
        ByteBuf b = ProxyProtocolV2.encode(alloc, client6, local6, "TLSv1.3", "TLS_AES_128_GCM_SHA256");
        int n = b.readableBytes();
        b.release();
        return n;
    }
}
