package dev.postern.proxy.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.Mapping;
import java.util.concurrent.TimeUnit;

/**
 * {@link SniHandler} that gives the {@link SslHandler} it installs only what is left of the handshake timeout,
 * so the timeout bounds the whole handshake rather than restarting after the ClientHello.
 */
final class TimedSniHandler extends SniHandler {
    private final long createdNanos = System.nanoTime();

    TimedSniHandler(Mapping<String, SslContext> mapping, int maxClientHelloLength, long handshakeTimeoutMillis) {
        super(mapping, maxClientHelloLength, handshakeTimeoutMillis);
    }

    @Override
    protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
        SslHandler handler = super.newSslHandler(context, allocator);
        if (handshakeTimeoutMillis > 0) {
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - createdNanos);
            handler.setHandshakeTimeoutMillis(Math.max(1, handshakeTimeoutMillis - elapsed));
        }
        return handler;
    }
}
