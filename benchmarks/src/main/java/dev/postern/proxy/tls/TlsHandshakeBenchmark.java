package dev.postern.proxy.tls;

import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * A full TLS 1.3 handshake in memory (ECDHE X25519, ECDSA P-256 signature; client and server side both counted), as
 * every new IMAPS/POP3S/SMTPS connection does: JDK (SunJSSE) against OpenSSL (netty-tcnative, BoringSSL).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class TlsHandshakeBenchmark {
    @Param({"JDK", "OPENSSL"})
    public SslProvider provider;

    private SslContext serverContext;
    private SslContext clientContext;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        serverContext = TlsBenchmark.serverContext(provider);
        clientContext = TlsBenchmark.clientContext(provider);
    }

    @Benchmark
    public boolean fullHandshake() throws SSLException {
        SSLEngine c = clientContext.newEngine(UnpooledByteBufAllocator.DEFAULT);
        SSLEngine s = serverContext.newEngine(UnpooledByteBufAllocator.DEFAULT);
        try {
            return TlsBenchmark.handshake(c, s);
        } finally {
            TlsBenchmark.release(c);
            TlsBenchmark.release(s);
        }
    }
}
