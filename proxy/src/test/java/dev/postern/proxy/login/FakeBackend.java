package dev.postern.proxy.login;

import dev.postern.proxy.transport.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A mail backend reduced to a login: greets with {@code * OK fake}, answers {@code a LOGIN user password} with
 * {@code a OK} or {@code a NO}, and counts connections and logins.
 */
final class FakeBackend implements AutoCloseable {
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger logins = new AtomicInteger();
    final AtomicInteger accepted = new AtomicInteger();
    private final Map<String, String> users = new ConcurrentHashMap<>();
    private final Channel server;

    FakeBackend(Transport transport) {
        server = transport
                .serverBootstrap(new WriteBufferWaterMark(8192, 16384))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        ch.pipeline()
                                .addLast(new LineBasedFrameDecoder(1024))
                                .addLast(new StringDecoder(StandardCharsets.UTF_8))
                                .addLast(new StringEncoder(StandardCharsets.UTF_8))
                                .addLast(new SimpleChannelInboundHandler<String>() {
                                    @Override
                                    public void channelActive(ChannelHandlerContext ctx) {
                                        ctx.writeAndFlush("* OK fake\r\n");
                                    }

                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, String line) {
                                        String[] w = line.strip().split(" ");
                                        if (w.length == 4 && w[1].equals("LOGIN")) {
                                            logins.incrementAndGet();
                                            boolean ok = w[3].equals(users.get(w[2]));
                                            if (ok) {
                                                accepted.incrementAndGet();
                                            }
                                            ctx.writeAndFlush(w[0] + (ok ? " OK logged in\r\n" : " NO wrong\r\n"));
                                        }
                                    }
                                });
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .syncUninterruptibly()
                .channel();
    }

    FakeBackend user(String name, String password) {
        users.put(name, password);
        return this;
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
    }
}
