package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.CertificateConfig;
import dev.postern.config.TlsConfig.Provider;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The client contexts for TLS to backends: verifying (trust store and host name) or, for legacy, not. */
class ClientContextTest {
    private static final String HOST = "imap.backend.test";

    private static EventLoopGroup group;
    private static TestCertificates ca;

    @TempDir
    static Path dir;

    private static CertificateConfig certificate;

    @BeforeAll
    static void start() {
        group = TlsTesting.newGroup();
        ca = TestCertificates.newAuthority();
        certificate = TlsTesting.certificate(
                ca.issue(KeyType.RSA_2048, HOST, HOST).write(dir, "backend", KeyFormat.PKCS8, null));
    }

    @AfterAll
    static void stop() {
        TlsTesting.shutdown(group);
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void theNonVerifyingContextTakesAnyCertificateAndAnyName(Provider provider) throws Exception {
        TlsManager tls = TlsManager.create(TlsTesting.config(provider, certificate), TlsTesting.HANDSHAKE_TIMEOUT);
        SslContext client = tls.clientContext(false);

        assertThat(client.isClient()).isTrue();
        assertThat(tls.clientContext(false)).isSameAs(client);
        try (TlsTestServer server = TlsTestServer.start(group, tls)) {
            assertThat(handshake(client, "wrong.name.test", server.port()).cause())
                    .isNull();
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void theVerifyingContextUsesTheJdkTrustStore(Provider provider) throws Exception {
        TlsManager tls = TlsManager.create(TlsTesting.config(provider, certificate), TlsTesting.HANDSHAKE_TIMEOUT);
        SslContext client = tls.clientContext(true);

        assertThat(tls.clientContext(true)).isSameAs(client);
        try (TlsTestServer server = TlsTestServer.start(group, tls)) {
            // The test CA is in no real trust store.
            assertThat(handshake(client, HOST, server.port()).cause()).isInstanceOf(SSLHandshakeException.class);
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void theVerifyingContextChecksTheHostName(Provider provider) throws Exception {
        TlsManager tls = TlsManager.create(TlsTesting.config(provider, certificate), TlsTesting.HANDSHAKE_TIMEOUT);
        SslContext client = tls.clientContext(ca.trustManagerFactory());

        try (TlsTestServer server = TlsTestServer.start(group, tls)) {
            assertThat(handshake(client, HOST, server.port()).cause()).isNull();
            assertThat(handshake(client, "other.backend.test", server.port()).cause())
                    .isInstanceOf(SSLHandshakeException.class);
        }
    }

    /** Connects a Netty client to 127.0.0.1:port with a handler for {@code host}; the finished handshake. */
    private static Future<Channel> handshake(SslContext client, String host, int port) throws Exception {
        // the handler as made, not looked up afterwards: a handshake that fails at once closes the channel, and a
        // closed pipeline has no handlers left
        CompletableFuture<SslHandler> handler = new CompletableFuture<>();
        Channel channel = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        SslHandler ssl = client.newHandler(channel.alloc(), host, port);
                        handler.complete(ssl);
                        channel.pipeline().addLast(ssl);
                        channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close();
                            }
                        });
                    }
                })
                .connect(InetAddress.getLoopbackAddress(), port)
                .sync()
                .channel();
        try {
            Future<Channel> handshake = handler.getNow(null).handshakeFuture();
            assertThat(handshake.await(TlsTesting.WAIT.toMillis(), TimeUnit.MILLISECONDS))
                    .as("handshake done in time")
                    .isTrue();
            return handshake;
        } finally {
            channel.close().await(TlsTesting.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
