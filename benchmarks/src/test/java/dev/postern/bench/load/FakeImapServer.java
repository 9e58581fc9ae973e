package dev.postern.bench.load;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/** A scripted IMAP server in the test JVM that answers right, or wrong in one chosen way. */
final class FakeImapServer implements AutoCloseable {
    /** How the server misbehaves. */
    enum Behaviour {
        GOOD,
        WRONG_TAG_ON_LOGIN,
        NO_ON_LOGIN,
        SHORT_LITERAL,
        CLOSE_AFTER_GREETING
    }

    static final int MESSAGE_SIZE = 5000;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final Behaviour behaviour;
    final AtomicInteger logins = new AtomicInteger();

    FakeImapServer(Behaviour behaviour, SslContext tls) throws InterruptedException {
        this.behaviour = behaviour;
        this.server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new LineBasedFrameDecoder(1000), new Session());
                    }
                })
                .bind("127.0.0.1", 0)
                .sync()
                .channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Session extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ChannelFutureListener after =
                    behaviour == Behaviour.CLOSE_AFTER_GREETING ? ChannelFutureListener.CLOSE : f -> {};
            ctx.writeAndFlush(text("* OK [CAPABILITY IMAP4rev1 IDLE] fake ready\r\n"))
                    .addListener(after);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
            String line = msg.toString(StandardCharsets.UTF_8);
            String[] w = line.split(" ", 3);
            String tag = w[0];
            String command = w.length > 1 ? w[1].toUpperCase(java.util.Locale.ROOT) : "";
            switch (command) {
                case "LOGIN" -> {
                    logins.incrementAndGet();
                    if (behaviour == Behaviour.WRONG_TAG_ON_LOGIN) {
                        ctx.writeAndFlush(text("zz9 OK logged in\r\n"));
                    } else if (behaviour == Behaviour.NO_ON_LOGIN) {
                        ctx.writeAndFlush(text(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"));
                    } else {
                        ctx.writeAndFlush(text(tag + " OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"));
                    }
                }
                case "SELECT" -> ctx.writeAndFlush(
                        text("* 3 EXISTS\r\n* 0 RECENT\r\n" + tag + " OK [READ-WRITE] done\r\n"));
                case "FETCH" -> {
                    if (line.contains("BODY.PEEK[]")) {
                        byte[] body = new byte[MESSAGE_SIZE];
                        Arrays.fill(body, (byte) 'x');
                        if (behaviour == Behaviour.SHORT_LITERAL) {
                            ctx.write(text("* 1 FETCH (BODY[] {" + MESSAGE_SIZE + "}\r\n"));
                            ctx.writeAndFlush(Unpooled.wrappedBuffer(body, 0, MESSAGE_SIZE / 2))
                                    .addListener(ChannelFutureListener.CLOSE);
                            return;
                        }
                        ctx.write(text("* 1 FETCH (BODY[] {" + MESSAGE_SIZE + "}\r\n"));
                        ctx.write(Unpooled.wrappedBuffer(body));
                        ctx.writeAndFlush(text(")\r\n" + tag + " OK Fetch completed.\r\n"));
                    } else {
                        ctx.writeAndFlush(text("* 1 FETCH (FLAGS (\\Seen))\r\n" + tag + " OK done\r\n"));
                    }
                }
                case "IDLE" -> ctx.writeAndFlush(text("+ idling\r\n"));
                case "LOGOUT" -> ctx.writeAndFlush(text("* BYE bye\r\n" + tag + " OK Logout completed.\r\n"))
                        .addListener(ChannelFutureListener.CLOSE);
                default -> ctx.writeAndFlush(text(tag + " BAD unknown\r\n"));
            }
        }
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }
}
