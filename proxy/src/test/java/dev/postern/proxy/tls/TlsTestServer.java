package dev.postern.proxy.tls;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.SSLSession;

/**
 * An echo server on 127.0.0.1, port 0, with {@link TlsManager#newServerHandler()} first in each child pipeline. It
 * records every handshake as the server saw it, read from the {@link SslHandler} that replaced the SNI handler.
 */
final class TlsTestServer implements AutoCloseable {
    private final Channel serverChannel;
    private final ChannelGroup children = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final BlockingQueue<ServerHandshake> handshakes = new LinkedBlockingQueue<>();

    /**
     * A handshake as the server saw it.
     *
     * @param sniHostname the SNI name the client sent, null for none
     * @param protocol the negotiated protocol, null when the handshake failed
     * @param cipherSuite the negotiated suite, null when the handshake failed
     * @param pipelineHasSslHandler whether {@code pipeline.get(SslHandler.class)} found the handler
     * @param failure why it failed, null when it succeeded
     * @param session the server's TLS session, null when the handshake failed
     */
    record ServerHandshake(
            String sniHostname,
            String protocol,
            String cipherSuite,
            boolean pipelineHasSslHandler,
            Throwable failure,
            SSLSession session) {}

    private TlsTestServer(EventLoopGroup group, Function<Channel, ChannelHandler> tls) throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        children.add(channel);
                        channel.pipeline().addLast("tls", tls.apply(channel));
                        channel.pipeline().addLast("observer", new Observer());
                        channel.pipeline().addLast("echo", new Echo());
                    }
                });
        this.serverChannel = bootstrap
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .sync()
                .channel();
    }

    static TlsTestServer start(EventLoopGroup group, TlsManager tls) throws InterruptedException {
        return new TlsTestServer(group, channel -> tls.newServerHandler());
    }

    /** Like {@link #start(EventLoopGroup, TlsManager)}, with the TLS handler {@code tls} makes for each channel. */
    static TlsTestServer start(EventLoopGroup group, Function<Channel, ChannelHandler> tls)
            throws InterruptedException {
        return new TlsTestServer(group, tls);
    }

    int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** The next handshake the server finished (or failed), waiting at most {@code timeout}. */
    ServerHandshake nextHandshake(Duration timeout) throws InterruptedException {
        ServerHandshake handshake = handshakes.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (handshake == null) {
            throw new AssertionError("no server handshake within " + timeout);
        }
        return handshake;
    }

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        children.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    private final class Observer extends ChannelInboundHandlerAdapter {
        private String sniHostname;

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof SniCompletionEvent sni) {
                sniHostname = sni.hostname();
            } else if (event instanceof SslHandshakeCompletionEvent done) {
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                if (done.isSuccess()) {
                    handshakes.add(new ServerHandshake(
                            sniHostname,
                            ssl.engine().getSession().getProtocol(),
                            ssl.engine().getSession().getCipherSuite(),
                            true,
                            null,
                            ssl.engine().getSession()));
                } else {
                    handshakes.add(new ServerHandshake(sniHostname, null, null, ssl != null, done.cause(), null));
                }
            }
            super.userEventTriggered(ctx, event);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Failed handshakes end up here too; they are recorded above. Keep the log quiet.
            ctx.close();
        }
    }

    /** Writes back what it reads; the write takes over the buffer, the flush comes once per read burst. */
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }
}
