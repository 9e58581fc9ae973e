package dev.postern.proxy.transport;

import dev.postern.config.ListenerConfig;
import dev.postern.config.ProxyProtocolConfig;
import dev.postern.config.TlsMode;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.tls.TlsManager;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Builds the pipeline of each accepted client connection of one listener: the connection limits (the listener's, and
 * {@link PreAuthSlots} per client address), the session, the
 * PROXY header reader on listeners with {@code proxy-protocol} (which installs the rest once the header is read), TLS
 * for implicit-TLS listeners, the idle timer, and the listener's front end.
 */
public final class ListenerInitializer extends ChannelInitializer<Channel> {

    private final Metrics metrics;
    private final SessionRegistry sessions;
    private final TlsManager tls;
    private final ListenerConfig listener;
    private final Consumer<Channel> frontend;
    private final AtomicInteger connections;
    private final PreAuthSlots preAuthSlots;
    private final long idleMillis;

    /**
     * @param frontend adds the listener's front-end handlers at the end of a new client pipeline
     */
    public ListenerInitializer(
            Metrics metrics,
            SessionRegistry sessions,
            TlsManager tls,
            ListenerConfig listener,
            Consumer<Channel> frontend) {
        this(metrics, sessions, tls, listener, frontend, new AtomicInteger());
    }

    private ListenerInitializer(
            Metrics metrics,
            SessionRegistry sessions,
            TlsManager tls,
            ListenerConfig listener,
            Consumer<Channel> frontend,
            AtomicInteger connections) {
        this.connections = connections;
        this.metrics = metrics;
        this.sessions = sessions;
        this.tls = tls;
        this.listener = listener;
        this.frontend = frontend;
        this.idleMillis = listener.timeouts().idle().toMillis();
        this.preAuthSlots = new PreAuthSlots(listener.limits().preAuthConnectionsPerClient());
    }

    /**
     * This initializer counting its connections with {@code earlier}'s: a reload's new settings for a listener whose
     * open connections still count against its {@code max-connections}.
     */
    ListenerInitializer countingWith(ListenerInitializer earlier) {
        return new ListenerInitializer(metrics, sessions, tls, listener, frontend, earlier.connections);
    }

    /** The listener's settings new connections get. */
    public ListenerConfig listener() {
        return listener;
    }

    /** Client connections currently open on this listener. */
    public int connections() {
        return connections.get();
    }

    @Override
    protected void initChannel(Channel ch) {
        int max = listener.limits().maxConnections();
        int now = connections.incrementAndGet();
        ch.closeFuture().addListener(f -> connections.decrementAndGet());
        if (max > 0 && now > max) {
            metrics.connectionRefused(listener, "max-connections");
            ch.close();
            return;
        }
        sessions.open(listener, ch);
        if (listener.proxyProtocol().mode() != ProxyProtocolConfig.Mode.OFF) {
            // the header comes before TLS and before the greeting: the rest is installed once it is read
            ch.pipeline().addLast(HandlerNames.PROXY_HEADER, new ProxyHeaderHandler(listener, metrics, this::addRest));
            return;
        }
        addRest(ch);
    }

    private void addRest(Channel ch) {
        Session session = Session.of(ch);
        InetSocketAddress client = session != null ? session.clientAddress() : null;
        if (!preAuthSlots.take(ch, client != null ? client.getAddress() : null)) {
            metrics.connectionRefused(listener, "pre-auth-per-client");
            ch.close();
            return;
        }
        if (listener.tls() == TlsMode.IMPLICIT) {
            ch.pipeline()
                    .addLast(
                            HandlerNames.TLS,
                            tls.newServerHandler(ch.alloc(), false, listener.alpn(), listener.clientCertificates()));
        }
        ch.pipeline().addLast(HandlerNames.IDLE, new IdleTimer(idleMillis));
        frontend.accept(ch);
    }
}
