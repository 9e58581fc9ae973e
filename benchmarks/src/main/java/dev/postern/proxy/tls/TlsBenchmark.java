package dev.postern.proxy.tls;

import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.nio.ByteBuffer;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * TLS 1.3 in memory, client and server {@link SSLEngine}s of one provider talking through byte buffers, with the
 * ECDSA P-256 certificate Postern generates: a full handshake, and wrapping plus unwrapping application data (what
 * every relayed byte of a TLS session costs). JDK (SunJSSE) against OpenSSL (netty-tcnative, BoringSSL). The
 * handshake alone: {@link TlsHandshakeBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class TlsBenchmark {
    @Param({"JDK", "OPENSSL"})
    public SslProvider provider;

    @Param({"1024", "16384"})
    public int size;

    private SSLEngine client;
    private SSLEngine server;
    private ByteBuffer app;
    private ByteBuffer net;
    private ByteBuffer received;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        SslContext serverContext = serverContext(provider);
        SslContext clientContext = clientContext(provider);
        client = clientContext.newEngine(UnpooledByteBufAllocator.DEFAULT);
        server = serverContext.newEngine(UnpooledByteBufAllocator.DEFAULT);
        handshake(client, server);
        app = ByteBuffer.allocateDirect(size);
        while (app.hasRemaining()) {
            app.put((byte) 'x');
        }
        net = ByteBuffer.allocateDirect(size + 4 * client.getSession().getPacketBufferSize());
        received = ByteBuffer.allocateDirect(size + 2 * server.getSession().getApplicationBufferSize());
        // the server's session tickets reach the client before the measurement starts
        wrapUnwrap(server, client);
    }

    static SslContext serverContext(SslProvider provider) throws Exception {
        LoadedCertificate cert = SelfSignedFallback.generate(Instant.now());
        return SslContextBuilder.forServer(cert.key(), cert.chain().toArray(X509Certificate[]::new))
                .sslProvider(provider)
                .protocols("TLSv1.3")
                .build();
    }

    static SslContext clientContext(SslProvider provider) throws SSLException {
        return SslContextBuilder.forClient()
                .sslProvider(provider)
                .protocols("TLSv1.3")
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .endpointIdentificationAlgorithm(null)
                .build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        release(client);
        release(server);
    }

    /** {@code size} bytes of application data from client to server: wrap, then unwrap. */
    @Benchmark
    public int wrapUnwrap() throws SSLException {
        return wrapUnwrap(client, server);
    }

    private int wrapUnwrap(SSLEngine from, SSLEngine to) throws SSLException {
        app.clear();
        if (from == server) {
            app.limit(1);
        }
        net.clear();
        while (app.hasRemaining()) {
            from.wrap(app, net);
        }
        net.flip();
        received.clear();
        while (net.hasRemaining()) {
            if (to.unwrap(net, received).bytesConsumed() == 0) {
                break;
            }
        }
        return received.position();
    }

    static boolean handshake(SSLEngine client, SSLEngine server) throws SSLException {
        client.setUseClientMode(true);
        server.setUseClientMode(false);
        client.beginHandshake();
        server.beginHandshake();
        ByteBuffer empty = ByteBuffer.allocate(0);
        ByteBuffer toServer = ByteBuffer.allocateDirect(client.getSession().getPacketBufferSize() * 2);
        ByteBuffer toClient = ByteBuffer.allocateDirect(server.getSession().getPacketBufferSize() * 2);
        ByteBuffer sink = ByteBuffer.allocateDirect(server.getSession().getApplicationBufferSize() * 2);
        for (int i = 0; i < 50; i++) {
            if (finished(client) && finished(server)) {
                return true;
            }
            toServer.clear();
            client.wrap(empty, toServer);
            tasks(client);
            toServer.flip();
            while (toServer.hasRemaining() && server.unwrap(toServer, sink).bytesConsumed() > 0) {
                tasks(server);
            }
            tasks(server);
            toClient.clear();
            server.wrap(empty, toClient);
            tasks(server);
            toClient.flip();
            while (toClient.hasRemaining() && client.unwrap(toClient, sink).bytesConsumed() > 0) {
                tasks(client);
            }
            tasks(client);
            sink.clear();
        }
        throw new IllegalStateException("handshake did not finish: client " + client.getHandshakeStatus() + ", server "
                + server.getHandshakeStatus());
    }

    private static boolean finished(SSLEngine e) {
        HandshakeStatus s = e.getHandshakeStatus();
        return s == HandshakeStatus.NOT_HANDSHAKING || s == HandshakeStatus.FINISHED;
    }

    private static void tasks(SSLEngine e) {
        Runnable task;
        while ((task = e.getDelegatedTask()) != null) {
            task.run();
        }
    }

    static void release(SSLEngine e) {
        if (e instanceof ReferenceCountedOpenSslEngine r) {
            r.release();
        }
    }
}
