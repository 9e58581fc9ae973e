package dev.postern.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.postern.config.TransportKind;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code transport: io_uring} on this host: its loops, and every channel type Postern opens working on them. */
class TransportIoUringTest {
    private static final WriteBufferWaterMark WM = new WriteBufferWaterMark(32 * 1024, 64 * 1024);

    @Test
    void askedForIoUringRunsIoUringExactlyWhenTheHostHasIt() {
        try (Transport transport = Transport.create(TransportKind.IO_URING, 1)) {
            if (IoUring.isAvailable()) {
                assertThat(transport.kind()).isEqualTo(TransportKind.IO_URING);
                assertThat(transport.description()).isEqualTo("io_uring, 1 I/O threads");
            } else {
                // never a failed start: the fallback that auto would pick
                assertThat(transport.kind()).isIn(TransportKind.EPOLL, TransportKind.NIO);
            }
        }
    }

    @Test
    void listenerBackendConnectionAndDatagramsAllRunOnTheIoUringLoops() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring is not available here: " + IoUring.unavailabilityCause());
        try (Transport transport = Transport.create(TransportKind.IO_URING, 2)) {
            assertThat(transport.serverChannelType()).isEqualTo(IoUringServerSocketChannel.class);
            assertThat(transport.socketChannelType()).isEqualTo(IoUringSocketChannel.class);
            assertThat(transport.datagramChannelType()).isEqualTo(IoUringDatagramChannel.class);

            // a listener that answers each line with it upper-cased
            Channel listener = transport
                    .bind(new InetSocketAddress("127.0.0.1", 0), WM, new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                                    ctx.writeAndFlush(Unpooled.copiedBuffer(
                                            msg.toString(StandardCharsets.US_ASCII)
                                                    .toUpperCase(),
                                            StandardCharsets.US_ASCII));
                                }
                            });
                        }
                    })
                    .sync()
                    .channel();
            CompletableFuture<String> answer = new CompletableFuture<>();
            Bootstrap backend = transport
                    .backendBootstrap(transport.workerGroup().next(), Duration.ofSeconds(5), WM)
                    .option(ChannelOption.AUTO_READ, true)
                    .handler(new SimpleChannelInboundHandler<ByteBuf>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                            answer.complete(msg.toString(StandardCharsets.US_ASCII));
                        }
                    });
            Channel client = backend.connect(listener.localAddress()).sync().channel();
            assertThat(client).isInstanceOf(IoUringSocketChannel.class);
            client.writeAndFlush(Unpooled.copiedBuffer("a1 noop", StandardCharsets.US_ASCII));
            assertThat(answer.get(5, TimeUnit.SECONDS)).isEqualTo("A1 NOOP");
            client.close().sync();

            CompletableFuture<String> datagram = new CompletableFuture<>();
            Channel udp = new Bootstrap()
                    .group(transport.workerGroup().next())
                    .channel(transport.datagramChannelType())
                    .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                            datagram.complete(packet.content().toString(StandardCharsets.US_ASCII));
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0))
                    .sync()
                    .channel();
            udp.writeAndFlush(new DatagramPacket(
                    Unpooled.copiedBuffer("query", StandardCharsets.US_ASCII), (InetSocketAddress) udp.localAddress()));
            assertThat(datagram.get(5, TimeUnit.SECONDS)).isEqualTo("query");
            udp.close().sync();
            listener.close().sync();
        }
    }
}
