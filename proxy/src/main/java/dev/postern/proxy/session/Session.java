package dev.postern.proxy.session;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Objects;

/**
 * One client connection and, once connected, its backend connection. Everything here is touched on the client
 * channel's event loop except the fields marked volatile, which the admin side reads.
 */
public final class Session {
    /** The session of a channel (set on the client channel and on its backend channel). */
    public static final AttributeKey<Session> KEY = AttributeKey.valueOf("postern.session");

    private final String id;
    private final ListenerConfig listener;
    private final Channel client;
    private final long startNanos = System.nanoTime();
    private final long startMillis = System.currentTimeMillis();

    private Channel backend;
    private volatile String backendId;
    private volatile String pool;
    private volatile String user;
    private volatile String tlsProtocol;
    private volatile String tlsCipher;
    private volatile CloseReason closeReason;
    private String closeDetail;
    private volatile long bytesFromClient;
    private volatile long bytesToClient;

    Session(String id, ListenerConfig listener, Channel client) {
        this.id = Objects.requireNonNull(id);
        this.listener = Objects.requireNonNull(listener);
        this.client = Objects.requireNonNull(client);
    }

    /** The session attached to {@code channel}, or null. */
    public static Session of(Channel channel) {
        return channel.attr(KEY).get();
    }

    public String id() {
        return id;
    }

    public ListenerConfig listener() {
        return listener;
    }

    public Protocol protocol() {
        return listener.protocol();
    }

    public Channel client() {
        return client;
    }

    /** The backend channel, or null before it is connected. */
    public Channel backend() {
        return backend;
    }

    public void attachBackend(Channel channel, String poolName, String backendIdentifier) {
        this.backend = channel;
        this.pool = poolName;
        this.backendId = backendIdentifier;
        channel.attr(KEY).set(this);
        if (closeReason != null) {
            channel.close();
        }
    }

    public InetSocketAddress clientAddress() {
        return asInet(client.remoteAddress());
    }

    public InetSocketAddress localAddress() {
        return asInet(client.localAddress());
    }

    private static InetSocketAddress asInet(SocketAddress address) {
        return address instanceof InetSocketAddress inet ? inet : null;
    }

    public long startMillis() {
        return startMillis;
    }

    public long ageNanos() {
        return System.nanoTime() - startNanos;
    }

    public String backendId() {
        return backendId;
    }

    public String pool() {
        return pool;
    }

    public String user() {
        return user;
    }

    public void user(String authenticatedUser) {
        this.user = authenticatedUser;
    }

    public void tls(String protocol, String cipher) {
        this.tlsProtocol = protocol;
        this.tlsCipher = cipher;
    }

    public String tlsProtocol() {
        return tlsProtocol;
    }

    public String tlsCipher() {
        return tlsCipher;
    }

    public void addBytesFromClient(long n) {
        bytesFromClient += n; // single writer: the session's event loop
    }

    public void addBytesToClient(long n) {
        bytesToClient += n;
    }

    public long bytesFromClient() {
        return bytesFromClient;
    }

    public long bytesToClient() {
        return bytesToClient;
    }

    public CloseReason closeReason() {
        return closeReason;
    }

    public String closeDetail() {
        return closeDetail;
    }

    public boolean isClosing() {
        return closeReason != null;
    }

    /**
     * Records why the session ends (the first reason wins) without closing anything; the caller closes in its own
     * order (for instance after flushing a final reply).
     */
    public void markClosing(CloseReason reason, String detail) {
        if (closeReason == null) {
            closeReason = reason;
            closeDetail = detail;
        }
    }

    /** Closes both sides now. Safe to call from any thread and more than once. */
    public void close(CloseReason reason, String detail) {
        markClosing(reason, detail);
        Channel b = backend;
        if (b != null) {
            b.close();
        }
        client.close();
    }

    /** Flushes what is queued for the client, then closes both sides. */
    public void closeAfterFlush(CloseReason reason, String detail) {
        markClosing(reason, detail);
        Channel b = backend;
        if (b != null) {
            b.close();
        }
        if (client.isActive()) {
            client.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            client.close();
        }
    }

    @Override
    public String toString() {
        return "session " + id;
    }
}
