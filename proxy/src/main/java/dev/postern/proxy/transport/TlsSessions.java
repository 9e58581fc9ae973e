package dev.postern.proxy.transport;

import dev.postern.proxy.session.Session;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLSession;

/** Reads what a finished TLS handshake agreed on. */
public final class TlsSessions {
    private TlsSessions() {}

    /** Copies protocol and cipher of the channel's TLS session into {@code session}; no-op without TLS. */
    public static void record(Session session, Channel channel) {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return;
        }
        SSLSession s = ssl.engine().getSession();
        session.tls(s.getProtocol(), s.getCipherSuite());
    }
}
