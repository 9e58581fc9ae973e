package dev.postern.proxy.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SslClientHelloHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;

/**
 * Refuses a ClientHello that offers ALPN without any of the listener's protocol ids (RFC 9325 section 3.8, the
 * ALPACA cross-protocol attack), with the fatal {@code no_application_protocol} alert of RFC 7301; a ClientHello
 * without ALPN passes. Otherwise it replaces itself with the real TLS handler, made at that moment, which gets the
 * ClientHello and what of the handshake timeout is left.
 *
 * <p>Why a handler of our own and not {@code ApplicationProtocolConfig} with {@code FATAL_ALERT}: only the JDK
 * provider supports that behaviour; netty-tcnative's ALPN callback answers a mismatch with "no ALPN" and carries on
 * ({@code NO_ADVERTISE} is all it offers, and {@code FATAL_ALERT} is refused when the context is built), so with
 * BoringSSL the check would silently not happen. Reading the extension here works the same for both providers, and
 * one context per certificate still serves every listener.
 */
final class AlpnGuard extends SslClientHelloHandler<Void> {
    /** TLS ExtensionType application_layer_protocol_negotiation. */
    private static final int ALPN_EXTENSION = 16;

    /** alert(21), legacy version TLS 1.2, length 2, fatal(2), no_application_protocol(120). */
    private static final byte[] NO_APPLICATION_PROTOCOL = {21, 3, 3, 0, 2, 2, 120};

    /** Makes the TLS handler once the ClientHello passed. */
    interface TlsHandlerFactory {
        /**
         * @param startTls whether the next write must still leave in clear text (the STARTTLS go-ahead not written
         *     yet)
         * @param timeoutMillis what is left of the handshake timeout, at least 1; 0 for no timeout
         */
        ChannelHandler create(ChannelHandlerContext ctx, boolean startTls, long timeoutMillis);
    }

    private final List<String> accepted;
    private final TlsHandlerFactory factory;
    private final boolean startTls;
    private final long timeoutMillis;
    private final long createdNanos = System.nanoTime();
    private boolean written;
    private boolean refused;
    private ScheduledFuture<?> timeout;

    /**
     * @param accepted the listener's ALPN ids, not empty
     * @param startTls whether the handler goes in at STARTTLS time, before the go-ahead is written
     * @param timeoutMillis the handshake timeout, from now; 0 for none
     */
    AlpnGuard(
            List<String> accepted,
            int maxClientHelloLength,
            boolean startTls,
            long timeoutMillis,
            TlsHandlerFactory factory) {
        super(maxClientHelloLength);
        if (accepted.isEmpty()) {
            throw new IllegalArgumentException("accepted: at least one ALPN id");
        }
        this.accepted = List.copyOf(accepted);
        this.startTls = startTls;
        this.timeoutMillis = timeoutMillis;
        this.factory = factory;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        super.handlerAdded(ctx);
        if (timeoutMillis > 0) {
            // the real handler's timeout only starts when it is added; until then this one bounds the wait
            timeout = ctx.executor().schedule(() -> timedOut(ctx), timeoutMillis, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
        if (timeout != null) {
            timeout.cancel(false);
        }
        super.handlerRemoved0(ctx);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        written = true;
        super.write(ctx, msg, promise);
    }

    @Override
    protected Future<Void> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) {
        List<String> offered = clientHello == null ? null : offeredProtocols(clientHello);
        if (offered != null && offered.stream().noneMatch(accepted::contains)) {
            refused = true;
            return ctx.executor()
                    .newFailedFuture(new SSLHandshakeException("no_application_protocol: the client offered ALPN "
                            + offered + ", this listener " + accepted));
        }
        return ctx.executor().newSucceededFuture(null);
    }

    @Override
    protected void onLookupComplete(ChannelHandlerContext ctx, Future<Void> future) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (!future.isSuccess()) {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(NO_APPLICATION_PROTOCOL)).addListener(ChannelFutureListener.CLOSE);
            ctx.fireUserEventTriggered(new SslHandshakeCompletionEvent(future.cause()));
            return;
        }
        long left = 0;
        if (timeoutMillis > 0) {
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - createdNanos);
            left = Math.max(1, timeoutMillis - elapsed);
        }
        ChannelHandler tls = factory.create(ctx, startTls && !written, left);
        // the decoder hands what it buffered (the ClientHello) to the handler that takes its place
        ctx.pipeline().replace(this, ctx.name(), tls);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (refused) {
            in.skipBytes(in.readableBytes());
            return;
        }
        super.decode(ctx, in, out);
    }

    private void timedOut(ChannelHandlerContext ctx) {
        if (ctx.isRemoved() || refused) {
            return;
        }
        refused = true;
        ctx.fireUserEventTriggered(new SslHandshakeCompletionEvent(
                new SslHandshakeTimeoutException("handshake timed out after " + timeoutMillis + "ms")));
        ctx.close();
    }

    /**
     * The protocol ids of the ALPN extension of a ClientHello body (from {@code legacy_version} on), or null when it
     * has none. A malformed hello yields null too: the TLS engine refuses it with the right alert.
     */
    static List<String> offeredProtocols(ByteBuf hello) {
        try {
            int i = hello.readerIndex();
            int end = hello.writerIndex();
            i += 2 + 32; // legacy_version, random
            i += 1 + hello.getUnsignedByte(i); // legacy_session_id
            i += 2 + hello.getUnsignedShort(i); // cipher_suites
            i += 1 + hello.getUnsignedByte(i); // legacy_compression_methods
            if (i + 2 > end) {
                return null;
            }
            int extensionsEnd = Math.min(end, i + 2 + hello.getUnsignedShort(i));
            i += 2;
            while (i + 4 <= extensionsEnd) {
                int type = hello.getUnsignedShort(i);
                int length = hello.getUnsignedShort(i + 2);
                i += 4;
                if (type == ALPN_EXTENSION) {
                    return protocolNameList(hello, i, Math.min(extensionsEnd, i + length));
                }
                i += length;
            }
            return null;
        } catch (IndexOutOfBoundsException e) {
            return null;
        }
    }

    private static List<String> protocolNameList(ByteBuf hello, int from, int end) {
        if (from + 2 > end) {
            return null;
        }
        int i = from + 2;
        int listEnd = Math.min(end, i + hello.getUnsignedShort(from));
        List<String> names = new ArrayList<>();
        while (i < listEnd) {
            int length = hello.getUnsignedByte(i);
            i++;
            if (length == 0 || i + length > listEnd) {
                return null;
            }
            names.add(hello.toString(i, length, StandardCharsets.US_ASCII));
            i += length;
        }
        return names.isEmpty() ? null : names;
    }
}
