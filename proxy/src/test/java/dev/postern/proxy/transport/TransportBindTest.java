package dev.postern.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.testkit.Await;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** A listener: its connections spread over the I/O loops; closing it frees the port; a taken port fails it. */
class TransportBindTest {
    private static final WriteBufferWaterMark WM = new WriteBufferWaterMark(32 * 1024, 64 * 1024);

    @Test
    void connectionsSpreadOverTheIoLoopsAndClosingTheListenerFreesThePort() throws Exception {
        try (Transport transport = Transport.create(2, true)) {
            Set<EventLoop> loops = ConcurrentHashMap.newKeySet();
            Set<Channel> accepted = ConcurrentHashMap.newKeySet();
            ChannelFuture bound =
                    transport.bind(new InetSocketAddress("127.0.0.1", 0), WM, new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            loops.add(ch.eventLoop());
                            accepted.add(ch);
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelActive(ChannelHandlerContext ctx) {
                                    ctx.writeAndFlush(ctx.alloc().buffer().writeByte('!'));
                                }
                            });
                        }
                    });
            bound.sync();
            int port = ((InetSocketAddress) bound.channel().localAddress()).getPort();

            for (int i = 0; i < 40; i++) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    s.setSoTimeout(5000);
                    assertThat(s.getInputStream().read()).isEqualTo('!');
                }
            }

            Await.until("40 accepted", Duration.ofSeconds(5), () -> accepted.size() == 40);
            for (EventLoop loop : loops) {
                assertThat(transport.workerGroup()).as("served by an I/O loop").contains(loop);
            }
            if (transport.isEpoll()) {
                assertThat(loops)
                        .as("the kernel spreads connections over the loops' sockets")
                        .hasSize(2);
            }

            bound.channel().close().sync();

            assertThatThrownBy(() -> new Socket("127.0.0.1", port).close())
                    .as("the listener accepts no more")
                    .isInstanceOf(ConnectException.class);
        }
    }

    @Test
    void aTakenPortFailsTheBind() throws IOException {
        try (Transport transport = Transport.create(2, true);
                java.net.ServerSocket taken =
                        new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            ChannelFuture f = transport
                    .bind(
                            new InetSocketAddress("127.0.0.1", taken.getLocalPort()),
                            WM,
                            new ChannelInboundHandlerAdapter())
                    .awaitUninterruptibly();

            assertThat(f.isSuccess()).isFalse();
            assertThat(f.cause()).hasMessageContaining("in use");
        }
    }
}
