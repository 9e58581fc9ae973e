package dev.postern.proxy.frontend;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.codec.CommandDecoder;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.transport.HandlerNames;
import dev.postern.proxy.transport.TlsSessions;
import io.netty.channel.ChannelHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The STARTTLS state of a {@link PreAuthHandler}, from the command to the end of its handshake. Nothing the client
 * pipelined after the command is ever executed (the CVE-2011-0411 class): such bytes close the connection or are
 * dropped, as the listener says, and the decoder stays paused until the handshake is done, so the TLS layer starts
 * on an empty buffer.
 */
final class StartTls {
    /** The handler's logger: these lines read as before, and a level set for the handler still applies. */
    private static final Logger log = LoggerFactory.getLogger(PreAuthHandler.class);

    private final ProxyServices services;
    private final ListenerConfig listener;
    private boolean pending;
    private long startNanos;

    StartTls(ProxyServices services, ListenerConfig listener) {
        this.services = services;
        this.listener = listener;
    }

    /** True from the command until its handshake succeeds (a failed one closes the connection). */
    boolean pending() {
        return pending;
    }

    /**
     * Refuses what was pipelined after the command, pauses the decoder and installs the TLS handler, whose first write
     * (the go-ahead the caller writes next) still leaves in clear text. Returns false when the connection is being
     * closed instead.
     */
    boolean begin(ChannelHandlerContext ctx, Session session, CommandDecoder decoder) {
        int pipelined = decoder.bufferedBytes();
        if (pipelined > 0) {
            services.metrics().connectionRefused(listener, "starttls-injection");
            if (listener.startTlsPipelining() == ListenerConfig.StartTlsPipelining.CLOSE) {
                log.info("{}: {} bytes pipelined after STARTTLS: closing", session, pipelined);
                session.close(CloseReason.STARTTLS_INJECTION, pipelined + " bytes after STARTTLS");
                return false;
            }
            log.info("{}: {} bytes pipelined after STARTTLS: discarded", session, pipelined);
            decoder.discardBuffered();
        }
        decoder.pause();
        pending = true;
        startNanos = System.nanoTime();
        // the handler lets its first write (the go-ahead) out in clear text (an SNI handler only inspects inbound
        // bytes, a plain one is made in STARTTLS mode); the next inbound bytes must be a ClientHello, anything else
        // fails the handshake and closes the connection
        ctx.pipeline()
                .addFirst(
                        HandlerNames.TLS,
                        services.tls()
                                .newServerHandler(ctx.alloc(), true, listener.alpn(), listener.clientCertificates()));
        return true;
    }

    /**
     * Records a finished handshake, this one's or an implicit-TLS listener's. Returns true when it was this one's: on
     * success the caller resets the protocol state and resumes the decoder.
     */
    boolean handshakeDone(ChannelHandlerContext ctx, Session session, boolean success) {
        boolean ours = pending;
        long elapsed = ours ? System.nanoTime() - startNanos : session.ageNanos();
        TlsSessions.handshake(session, ctx.channel(), services.metrics(), success, elapsed);
        if (success) {
            pending = false;
        }
        return ours;
    }
}
