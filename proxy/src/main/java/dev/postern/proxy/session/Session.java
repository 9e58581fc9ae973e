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
    /** Set once, by a PROXY protocol header, before any protocol handler runs; null: the connection's own. */
    private volatile Origin origin;

    private volatile String tlsProtocol;
    private volatile String tlsCipher;
    private volatile ClientCertificate clientCertificate;
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

    /**
     * The client's address: what a PROXY protocol header named, else the connection's peer. Every stage that needs
     * the client (throttling, DNS lists, SPF, auth requests, what backends are told, logs, the admin API) reads it
     * here.
     */
    public InetSocketAddress clientAddress() {
        Origin o = origin;
        return o != null ? o.client() : asInet(client.remoteAddress());
    }

    /** The address the client connected to: the balancer's front when a PROXY header said so, else this socket. */
    public InetSocketAddress localAddress() {
        Origin o = origin;
        return o != null ? o.local() : asInet(client.localAddress());
    }

    /** The balancer that sent the PROXY header naming the client; null when the connection is the client's own. */
    public InetSocketAddress proxiedBy() {
        Origin o = origin;
        return o != null ? asInet(client.remoteAddress()) : null;
    }

    /**
     * The TLS version a PROXY v2 header reported for the client's connection to the balancer; null when none. Only
     * recorded: it does not make this connection count as encrypted ({@link #tlsProtocol()} is Postern's own TLS).
     */
    public String proxiedTls() {
        Origin o = origin;
        return o != null ? o.tls() : null;
    }

    /**
     * Records what a PROXY protocol header said: from now on {@code clientAddress} is the client. Called at most
     * once per session, by the header handler, before any protocol handler is in the pipeline.
     *
     * @param balancerTls the TLS version the balancer reported for its side, or null
     * @throws IllegalStateException when the origin was set already
     */
    public void proxied(InetSocketAddress clientAddress, InetSocketAddress localAddress, String balancerTls) {
        if (origin != null) {
            throw new IllegalStateException(this + ": the client's address is set already");
        }
        origin = new Origin(Objects.requireNonNull(clientAddress), Objects.requireNonNull(localAddress), balancerTls);
    }

    private record Origin(InetSocketAddress client, InetSocketAddress local, String tls) {}

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

    /** Records the client certificate the handshake verified. */
    public void clientCertificate(ClientCertificate certificate) {
        this.clientCertificate = certificate;
    }

    /** The client certificate the TLS handshake verified, or null (no TLS, none sent, none asked for). */
    public ClientCertificate clientCertificate() {
        return clientCertificate;
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

    /**
     * Closes the session at the end of the shutdown grace, saying so first where the protocol lets a server say it at
     * any time. An SMTP-family client gets {@code 421 4.3.2} (RFC 5321 section 3.8: a server that must close says so),
     * so a sender in the middle of a message knows it was not taken and sends it again later; the backend connection
     * closes first, so the backend never sees the message end. An IMAP, POP3 or ManageSieve client that has not
     * logged in yet gets its protocol's goodbye ({@code * BYE [UNAVAILABLE]}, {@code -ERR [SYS/TEMP]}, {@code BYE
     * (TRYLATER)}), so it reports a server going away rather than a broken connection; once a session is relayed the
     * backend owns the client's stream (a line written then could land inside a literal), so it just closes.
     */
    public void closeForShutdown() {
        String goodbye = client.isActive() ? shutdownGoodbye() : null;
        if (goodbye == null) {
            close(CloseReason.SHUTDOWN, null);
            return;
        }
        markClosing(CloseReason.SHUTDOWN, null);
        Channel b = backend;
        if (b != null) {
            b.close();
        }
        client.writeAndFlush(io.netty.buffer.ByteBufUtil.writeAscii(client.alloc(), goodbye))
                .addListener(ChannelFutureListener.CLOSE);
    }

    private String shutdownGoodbye() {
        String later = "Server shutting down; try again later";
        return switch (listener.protocol()) {
            case SMTP, LMTP -> "421 4.3.2 "
                    + listener.smtp().hostname().map(h -> h + " ").orElse("")
                    + "Service shutting down; try again later\r\n";
            case IMAP -> backend == null ? "* BYE [UNAVAILABLE] " + later + "\r\n" : null;
            case POP3 -> backend == null ? "-ERR [SYS/TEMP] " + later + "\r\n" : null;
            case MANAGESIEVE -> backend == null ? "BYE (TRYLATER) \"" + later + "\"\r\n" : null;
            case TCP -> null;
        };
    }

    @Override
    public String toString() {
        return "session " + id;
    }
}
