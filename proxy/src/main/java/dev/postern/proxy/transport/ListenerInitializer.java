package dev.postern.proxy.transport;

import dev.postern.config.ListenerConfig;
import dev.postern.config.TlsMode;
import dev.postern.proxy.ProxyServices;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Builds the pipeline of each accepted client connection of one listener: the connection limit, the session, TLS
 * for implicit-TLS listeners, the idle timer, and the listener's front end.
 */
public final class ListenerInitializer extends ChannelInitializer<Channel> {
    /** Handler names, so front ends can find and replace them. */
    public static final String TLS = "tls";

    public static final String IDLE = "idle";

    private final ProxyServices services;
    private final ListenerConfig listener;
    private final Consumer<Channel> frontend;
    private final AtomicInteger connections = new AtomicInteger();
    private final long idleMillis;

    /**
     * @param frontend adds the listener's front-end handlers at the end of a new client pipeline
     */
    public ListenerInitializer(ProxyServices services, ListenerConfig listener, Consumer<Channel> frontend) {
        this.services = services;
        this.listener = listener;
        this.frontend = frontend;
        this.idleMillis = listener.timeouts().idle().toMillis();
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
            services.metrics().connectionRefused(listener, "max-connections");
            ch.close();
            return;
        }
        services.sessions().open(listener, ch);
        if (listener.tls() == TlsMode.IMPLICIT) {
            ch.pipeline().addLast(TLS, services.tls().newServerHandler(ch.alloc(), false));
        }
        ch.pipeline().addLast(IDLE, new IdleTimer(idleMillis));
        frontend.accept(ch);
    }
}
