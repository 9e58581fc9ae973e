package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.config.CertificateConfig;
import dev.postern.config.TlsConfig.Provider;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ALPN enforcement (RFC 9325, ALPACA): a client offering ALPN without the listener's protocol fails the handshake
 * with {@code no_application_protocol}, for both providers and both handler paths (one certificate: plain handler;
 * two: SNI selection); no ALPN, or ALPN that includes the listener's id, is served.
 */
class AlpnTest {
    private static final List<String> IMAP = List.of("imap");

    private static EventLoopGroup group;
    private static TestCertificates ca;
    private static CertificateConfig mail;
    private static CertificateConfig other;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        group = TlsTesting.newGroup();
        ca = TestCertificates.newAuthority();
        mail = TlsTesting.certificate(ca.issue(KeyType.EC_P256, "mail.example.test", "mail.example.test")
                .write(dir, "mail", KeyFormat.PKCS8, null));
        other = TlsTesting.certificate(ca.issue(KeyType.EC_P256, "other.example.test", "other.example.test")
                .write(dir, "other", KeyFormat.PKCS8, null));
    }

    @AfterAll
    static void stop() {
        TlsTesting.shutdown(group);
    }

    static Stream<Arguments> setups() {
        return Stream.of(
                Arguments.of(Provider.OPENSSL, 1),
                Arguments.of(Provider.OPENSSL, 2),
                Arguments.of(Provider.JDK, 1),
                Arguments.of(Provider.JDK, 2));
    }

    private static TlsTestServer server(Provider provider, int certificates, List<String> alpn) throws Exception {
        TlsManager tls = TlsManager.create(
                certificates == 1 ? TlsTesting.config(provider, mail) : TlsTesting.config(provider, mail, other),
                TlsTesting.HANDSHAKE_TIMEOUT);
        return TlsTestServer.start(group, channel -> tls.newServerHandler(channel.alloc(), false, alpn));
    }

    @ParameterizedTest(name = "{0}, {1} certificate(s)")
    @MethodSource("setups")
    void aClientOfferingOnlyAnotherProtocolGetsNoApplicationProtocol(Provider provider, int certificates)
            throws Exception {
        try (TlsTestServer server = server(provider, certificates, IMAP)) {
            assertThatThrownBy(() -> connect(server.port(), "h2").close())
                    .isInstanceOf(SSLHandshakeException.class)
                    .hasMessageContaining("no_application_protocol");
            TlsTestServer.ServerHandshake seen = server.nextHandshake(TlsTesting.WAIT);
            assertThat(seen.failure()).hasMessageContaining("no_application_protocol");
        }
    }

    @ParameterizedTest(name = "{0}, {1} certificate(s)")
    @MethodSource("setups")
    void aClientOfferingTheListenersProtocolIsServed(Provider provider, int certificates) throws Exception {
        try (TlsTestServer server = server(provider, certificates, IMAP);
                SSLSocket socket = connect(server.port(), "imap")) {
            TlsClients.assertEchoes(socket, "a1 NOOP\r\n");
            assertThat(server.nextHandshake(TlsTesting.WAIT).failure()).isNull();
        }
    }

    @ParameterizedTest(name = "{0}, {1} certificate(s)")
    @MethodSource("setups")
    void aClientOfferingNoAlpnIsServed(Provider provider, int certificates) throws Exception {
        try (TlsTestServer server = server(provider, certificates, IMAP);
                SSLSocket socket = connect(server.port())) {
            TlsClients.assertEchoes(socket, "a1 NOOP\r\n");
        }
    }

    @ParameterizedTest(name = "{0}, {1} certificate(s)")
    @MethodSource("setups")
    void aClientOfferingSeveralProtocolsAmongThemTheListenersIsServed(Provider provider, int certificates)
            throws Exception {
        try (TlsTestServer server = server(provider, certificates, IMAP);
                SSLSocket socket = connect(server.port(), "h2", "http/1.1", "imap")) {
            TlsClients.assertEchoes(socket, "a1 NOOP\r\n");
        }
    }

    @ParameterizedTest(name = "{0}, {1} certificate(s)")
    @MethodSource("setups")
    void withTheCheckOffAnyAlpnIsServed(Provider provider, int certificates) throws Exception {
        try (TlsTestServer server = server(provider, certificates, List.of());
                SSLSocket socket = connect(server.port(), "h2")) {
            TlsClients.assertEchoes(socket, "hello\n");
        }
    }

    @Test
    void aClientThatSendsNothingIsStillClosedAfterTheHandshakeTimeout() throws Exception {
        TlsManager tls = TlsManager.create(TlsTesting.config(Provider.JDK, mail), Duration.ofMillis(200));
        try (TlsTestServer server =
                        TlsTestServer.start(group, channel -> tls.newServerHandler(channel.alloc(), false, IMAP));
                Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()), 5_000);
            socket.setSoTimeout(5_000);
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
            assertThat(server.nextHandshake(TlsTesting.WAIT).failure()).hasMessageContaining("timed out");
        }
    }

    @Test
    void aRefusingClientHelloSplitAtEveryByteGetsTheAlert() throws Exception {
        byte[] hello = clientHello("h2");
        for (int split = 1; split < hello.length; split++) {
            Events events = new Events();
            EmbeddedChannel channel = new EmbeddedChannel(guard(false, new ArrayList<>()), events);
            channel.writeInbound(Unpooled.wrappedBuffer(hello, 0, split));
            channel.writeInbound(Unpooled.wrappedBuffer(hello, split, hello.length - split));
            ByteBuf alert = channel.readOutbound();
            assertThat(ByteBufUtil.hexDump(alert)).as("split at %d", split).isEqualTo("15030300020278");
            alert.release();
            assertThat(channel.isOpen()).isFalse();
            assertThat(events.failures).singleElement().asString().contains("[h2]");
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void anAcceptedClientHelloSplitAtEveryByteReachesTheTlsHandlerWhole() throws Exception {
        byte[] hello = clientHello("imap");
        for (int split = 1; split < hello.length; split++) {
            List<Boolean> made = new ArrayList<>();
            Collector collector = new Collector();
            EmbeddedChannel channel = new EmbeddedChannel(guard(false, made), collector);
            channel.writeInbound(Unpooled.wrappedBuffer(hello, 0, split));
            channel.writeInbound(Unpooled.wrappedBuffer(hello, split, hello.length - split));
            assertThat(made).as("split at %d", split).containsExactly(false);
            assertThat(channel.pipeline().get(AlpnGuard.class)).isNull();
            assertThat(collector.bytes()).isEqualTo(hello);
            assertThat((Object) channel.readOutbound()).isNull();
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void atStartTlsTheGoAheadWrittenBeforeTheClientHelloIsNotHeldBackTwice() throws Exception {
        List<Boolean> made = new ArrayList<>();
        EmbeddedChannel channel = new EmbeddedChannel(guard(true, made), new Collector());
        channel.writeOutbound(Unpooled.copiedBuffer("a1 OK Begin TLS\r\n", StandardCharsets.US_ASCII));
        ((ByteBuf) channel.readOutbound()).release();
        channel.writeInbound(Unpooled.wrappedBuffer(clientHello("imap")));
        assertThat(made).containsExactly(false);
        channel.finishAndReleaseAll();
    }

    @Test
    void offeredProtocolsAreReadFromTheExtension() throws Exception {
        byte[] hello = clientHello("h2", "imap");
        // record header (5) and handshake header (4) off: the body, as the hello handler hands it over
        ByteBuf body = Unpooled.wrappedBuffer(hello, 9, hello.length - 9);
        assertThat(AlpnGuard.offeredProtocols(body)).containsExactly("h2", "imap");
        assertThat(AlpnGuard.offeredProtocols(Unpooled.wrappedBuffer(clientHello(), 9, clientHello().length - 9)))
                .isNull();
        assertThat(AlpnGuard.offeredProtocols(Unpooled.wrappedBuffer(new byte[] {3, 3, 1})))
                .isNull();
    }

    private static AlpnGuard guard(boolean startTls, List<Boolean> made) {
        return new AlpnGuard(IMAP, TlsManager.MAX_CLIENT_HELLO_LENGTH, startTls, 0, (ctx, clearFirst, timeout) -> {
            made.add(clearFirst);
            return new ChannelInboundHandlerAdapter();
        });
    }

    /** The client's first flight with {@code alpn} offered (none: no extension). */
    private static byte[] clientHello(String... alpn) throws Exception {
        SSLEngine engine = ca.clientSslContext().createSSLEngine("mail.example.test", 993);
        engine.setUseClientMode(true);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setApplicationProtocols(alpn);
        engine.setSSLParameters(parameters);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return bytes;
    }

    private static SSLSocket connect(int port, String... alpn) throws IOException {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TlsClients.TIMEOUT_MILLIS);
        plain.setSoTimeout(TlsClients.TIMEOUT_MILLIS);
        SSLSocket socket = (SSLSocket)
                ca.clientSslContext().getSocketFactory().createSocket(plain, "mail.example.test", port, true);
        try {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setApplicationProtocols(alpn);
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Records failed handshake events. */
    private static final class Events extends ChannelInboundHandlerAdapter {
        final List<Throwable> failures = new ArrayList<>();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
                failures.add(done.cause());
            }
        }
    }

    /** Collects the bytes the handler after the guard receives. */
    private static final class Collector extends ChannelInboundHandlerAdapter {
        private final ByteBuf received = Unpooled.buffer();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                received.writeBytes(buf);
            } finally {
                buf.release();
            }
        }

        byte[] bytes() {
            return ByteBufUtil.getBytes(received);
        }
    }
}
