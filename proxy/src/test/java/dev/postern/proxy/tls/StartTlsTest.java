package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.CertificateConfig;
import dev.postern.config.TlsConfig.Provider;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The handler from {@link TlsManager#newServerHandler()} added in the middle of a plain connection, the way the
 * protocol front ends do STARTTLS: add it first, then write the go-ahead, which still goes out in plain text.
 */
class StartTlsTest {
    private static final String HOST = "mail.example.test";

    private static EventLoopGroup group;
    private static TestCertificates ca;

    @TempDir
    static Path dir;

    private static CertificateConfig certificate;

    @BeforeAll
    static void start() {
        group = TlsTesting.newGroup();
        ca = TestCertificates.newAuthority();
        certificate =
                TlsTesting.certificate(ca.issue(KeyType.EC_P256, HOST, HOST).write(dir, "mail", KeyFormat.PKCS8, null));
    }

    @AfterAll
    static void stop() {
        TlsTesting.shutdown(group);
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void theHandlerCanBeAddedAtStartTlsTime(Provider provider) throws Exception {
        TlsManager tls = TlsManager.create(TlsTesting.config(provider, certificate), TlsTesting.HANDSHAKE_TIMEOUT);
        CompletableFuture<String> serverSide = new CompletableFuture<>();
        Channel server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline().addLast("lines", new LineBasedFrameDecoder(1_000));
                        channel.pipeline().addLast("session", new PlainSession(tls, serverSide));
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .sync()
                .channel();
        try (Socket plain = new Socket()) {
            plain.connect(server.localAddress(), TlsClients.TIMEOUT_MILLIS);
            plain.setSoTimeout(TlsClients.TIMEOUT_MILLIS);
            plain.getOutputStream().write("a1 STARTTLS\r\n".getBytes(StandardCharsets.US_ASCII));
            // One byte at a time: a buffered reader could swallow the start of the server's TLS bytes.
            assertThat(readLine(plain)).isEqualTo("a1 OK Begin TLS negotiation now");

            try (SSLSocket socket = TlsClients.startTls(ca.clientSslContext(), plain, HOST, false)) {
                TlsClients.assertEchoes(socket, "a2 CAPABILITY\r\n");
                assertThat(TlsClients.peerCommonName(socket)).isEqualTo(HOST);
            }
            assertThat(serverSide.get(TlsTesting.WAIT.toMillis(), TimeUnit.MILLISECONDS))
                    .startsWith("TLSv1.");
        } finally {
            server.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    private static String readLine(Socket socket) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = socket.getInputStream().read();
                b >= 0 && b != '\n';
                b = socket.getInputStream().read()) {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    /** Until STARTTLS: plain lines; then TLS and an echo. */
    private static final class PlainSession extends SimpleChannelInboundHandler<ByteBuf> {
        private final TlsManager tls;
        private final CompletableFuture<String> negotiated;

        PlainSession(TlsManager tls, CompletableFuture<String> negotiated) {
            this.tls = tls;
            this.negotiated = negotiated;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf line) {
            if (!line.toString(StandardCharsets.US_ASCII).equals("a1 STARTTLS")) {
                ctx.close();
                return;
            }
            ctx.pipeline().remove("lines");
            ctx.pipeline().addFirst("tls", tls.newServerHandler());
            ctx.pipeline().replace(this, "echo", new Echo(negotiated));
            ctx.channel()
                    .writeAndFlush(
                            Unpooled.copiedBuffer("a1 OK Begin TLS negotiation now\r\n", StandardCharsets.US_ASCII));
        }
    }

    private static final class Echo extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<String> negotiated;

        Echo(CompletableFuture<String> negotiated) {
            this.negotiated = negotiated;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
                negotiated.complete(ctx.pipeline()
                        .get(SslHandler.class)
                        .engine()
                        .getSession()
                        .getProtocol());
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            negotiated.completeExceptionally(cause);
            ctx.close();
        }
    }
}
