package dev.postern.proxy.transport;

import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.tls.PeerCertificates;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLSession;

/** Reads what a finished TLS handshake agreed on. */
public final class TlsSessions {
    private TlsSessions() {}

    /**
     * Records a finished client handshake: its protocol and cipher in {@code session}, and the outcome in the
     * metrics.
     *
     * @param elapsedNanos how long the handshake took
     */
    public static void handshake(Session session, Channel channel, Metrics metrics, boolean ok, long elapsedNanos) {
        if (ok) {
            record(session, channel);
        }
        metrics.tlsHandshake(
                session.listener(),
                ok ? "ok" : "failed",
                ok ? session.tlsProtocol() : "none",
                ok ? session.tlsCipher() : "none",
                elapsedNanos);
    }

    /**
     * Copies protocol, cipher and the verified client certificate of the channel's TLS session into {@code session};
     * no-op without TLS.
     */
    public static void record(Session session, Channel channel) {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return;
        }
        SSLSession s = ssl.engine().getSession();
        session.tls(s.getProtocol(), s.getCipherSuite());
        session.clientCertificate(PeerCertificates.of(s, session.listener().clientCertificates()));
    }
}
