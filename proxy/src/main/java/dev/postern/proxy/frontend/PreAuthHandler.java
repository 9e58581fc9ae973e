package dev.postern.proxy.frontend;

import dev.postern.config.ListenerConfig;
import dev.postern.config.TlsMode;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.codec.CommandDecoder;
import dev.postern.proxy.login.BackendDialogue;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.login.LoginOutcome;
import dev.postern.proxy.relay.Relay;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.ClientCertificate;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the IMAP, POP3 and SMTP pre-authentication handlers share: the greeting after an implicit-TLS handshake, the
 * pre-auth timeout, STARTTLS done right (nothing pipelined after it is ever executed), bounded bad commands and
 * failed logins, the login through {@link LoginFlow}, and the hand-over to the relay. Subclasses implement the
 * protocol: {@link #greet}, {@link #command}, and the replies for each outcome. This class reads commands; the other
 * states have classes of their own: {@code StartTls} until the handshake is done, {@code LoginStep} while a login is
 * in flight, and {@code PreAuthPhase} for the timeout and the end of it all.
 *
 * <p>Pipeline of a protocol listener's client channel: {@code [tls] idle decoder session}; the decoder is named
 * {@link HandlerNames#DECODER} and this handler {@link HandlerNames#SESSION}.
 *
 * @param <C> the decoder's message type
 */
public abstract class PreAuthHandler<C> extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(PreAuthHandler.class);

    protected final ProxyServices services;
    protected final ListenerConfig listener;
    private final Class<C> commandType;

    protected ChannelHandlerContext ctx;
    protected Session session;
    private final PreAuthPhase phase;
    private final StartTls startTls;
    private final LoginStep loginStep;
    private int badCommands;
    private int authFailures;
    private int loginAttempts;

    protected PreAuthHandler(
            ProxyServices services, ListenerConfig listener, LoginFlow loginFlow, Class<C> commandType) {
        this.services = services;
        this.listener = listener;
        this.commandType = commandType;
        this.phase = new PreAuthPhase(listener.timeouts().preAuth(), this::preAuthTimeout);
        this.startTls = new StartTls(services, listener);
        this.loginStep = new LoginStep(loginFlow, phase);
    }

    // ---- protocol hooks

    /** Writes (and flushes) the greeting; called when the connection is ready (after an implicit-TLS handshake). */
    protected abstract void greet();

    /** Handles one decoded command. */
    protected abstract void command(C command);

    /** The reply to a line or literal over its bound, written before the connection is closed. */
    protected abstract String lineTooLongReply();

    /** The reply when the pre-auth timeout fires, written before the connection is closed. */
    protected abstract String timeoutReply();

    /** The reply when too many bad commands or failed logins were seen, written before the connection is closed. */
    protected abstract String tooManyErrorsReply();

    /** Called after a STARTTLS handshake completes: reset the protocol state (SMTP: forget EHLO). */
    protected void afterStartTls() {}

    /** Called when the TLS handshake after STARTTLS fails; the connection is being closed. */
    protected void startTlsFailed() {}

    // ---- lifecycle

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        session = Session.of(ctx.channel());
        phase.startTimeout(ctx.executor());
        if (listener.tls() != TlsMode.IMPLICIT) {
            greet();
        }
        ctx.fireChannelActive();
    }

    private void preAuthTimeout() {
        if (phase.isOver() || !ctx.channel().isActive()) {
            return;
        }
        session.markClosing(CloseReason.PRE_AUTH_TIMEOUT, null);
        writeAndClose(timeoutReply(), CloseReason.PRE_AUTH_TIMEOUT);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (phase.isOver() || loginStep.inFlight() || startTls.pending() || !commandType.isInstance(msg)) {
            // nothing is decoded while a login or STARTTLS is in progress (the decoder is paused); a stray buffer
            // can only come from a removed decoder and belongs to nobody here
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            command(commandType.cast(msg));
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent hs) {
            boolean afterCommand = startTls.handshakeDone(ctx, session, hs.isSuccess());
            if (!hs.isSuccess()) {
                log.debug("{}: TLS handshake failed: {}", session, hs.cause().toString());
                if (afterCommand) {
                    startTlsFailed();
                }
                session.close(CloseReason.TLS_HANDSHAKE_FAILED, hs.cause().getMessage());
            } else if (afterCommand) {
                afterStartTls();
                decoder().resume();
            } else if (listener.tls() == TlsMode.IMPLICIT) {
                greet();
            }
        } else if (evt instanceof IdleStateEvent) {
            // the idle timeout is for relayed sessions; before authentication the pre-auth timeout rules
            return;
        } else if (evt instanceof ChannelInputShutdownEvent) {
            // the client half-closed (listeners allow half-closure for the relay's sake): before authentication
            // nothing more can happen, but a login in flight finishes first and then decides
            if (!loginStep.deferInputShutdown() && !phase.isOver()) {
                phase.end();
                session.closeAfterFlush(CloseReason.CLIENT_CLOSED, null);
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof CommandDecoder.LineTooLongException) {
            services.metrics().connectionRefused(listener, "line-too-long");
            writeAndClose(lineTooLongReply(), CloseReason.LIMIT);
        } else if (cause instanceof DecoderException && cause.getCause() instanceof SSLException
                || cause instanceof SSLException) {
            session.close(CloseReason.TLS_HANDSHAKE_FAILED, rootMessage(cause));
        } else if (cause instanceof IOException || cause.getCause() instanceof IOException) {
            session.close(CloseReason.CLIENT_ERROR, rootMessage(cause));
        } else {
            log.warn("{}: unexpected error before authentication", session, cause);
            session.close(CloseReason.INTERNAL_ERROR, cause.getClass().getSimpleName());
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        phase.stopTimeout();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        phase.stopTimeout();
        ctx.fireChannelInactive();
    }

    /**
     * Starts the pre-auth timeout again from now. For a front end whose session never logs in (the SMTP relay keeps
     * the dialogue to the end), the timeout then bounds each wait for the client instead of the whole session.
     */
    protected final void restartPreAuthTimer() {
        if (!phase.isOver() && ctx.channel().isActive()) {
            phase.startTimeout(ctx.executor());
        } else {
            phase.stopTimeout();
        }
    }

    /** Stops the pre-auth timeout while Postern, not the client, is the one to act (until it is restarted). */
    protected final void pausePreAuthTimer() {
        phase.stopTimeout();
    }

    // ---- services for subclasses

    protected final CommandDecoder decoder() {
        return (CommandDecoder) ctx.pipeline().get(HandlerNames.DECODER);
    }

    /** True when the client connection is encrypted now. */
    protected final boolean isSecure() {
        return session.tlsProtocol() != null;
    }

    /** True when STARTTLS may be offered now (a STARTTLS listener before TLS is on). */
    protected final boolean canStartTls() {
        return listener.tls() == TlsMode.STARTTLS && !isSecure() && services.tls() != null;
    }

    /** True when credentials may be sent now: on TLS, or when the listener explicitly allows plaintext. */
    protected final boolean credentialsAllowed() {
        return isSecure() || listener.allowPlaintextAuth();
    }

    /** Writes a line (CRLF appended) without flushing; {@link #channelReadComplete} flushes. */
    protected final void write(String line) {
        ByteBuf buf = ctx.alloc().buffer(line.length() + 2);
        ByteBufUtil.writeUtf8(buf, line);
        buf.writeByte('\r').writeByte('\n');
        ctx.write(buf, ctx.voidPromise());
    }

    protected final void writeAndFlush(String line) {
        write(line);
        ctx.flush();
    }

    /** Writes a final reply, then closes both sides. */
    protected final void writeAndClose(String line, CloseReason reason) {
        phase.end();
        session.markClosing(reason, null);
        if (!ctx.channel().isActive()) {
            session.close(reason, null);
            return;
        }
        ByteBuf buf = ctx.alloc().buffer(line.length() + 2);
        buf.writeCharSequence(line, StandardCharsets.UTF_8);
        buf.writeByte('\r').writeByte('\n');
        ctx.writeAndFlush(buf).addListener((ChannelFutureListener) f -> session.close(reason, null));
    }

    /**
     * Counts an invalid command. Returns true when the connection is being closed for having too many (the caller
     * must not reply further).
     */
    protected final boolean badCommand() {
        if (++badCommands >= listener.limits().badCommands()) {
            services.metrics().connectionRefused(listener, "bad-commands");
            writeAndClose(tooManyErrorsReply(), CloseReason.LIMIT);
            return true;
        }
        return false;
    }

    /**
     * Starts TLS after a STARTTLS/STLS command: refuses the connection (or drops the bytes, as configured) when
     * anything was pipelined after the command, installs the TLS handler, then writes {@code goAhead} in clear text.
     * Returns false when the connection is being closed.
     */
    protected final boolean startTls(String goAhead) {
        if (!startTls.begin(ctx, session, decoder())) {
            phase.end();
            return false;
        }
        writeAndFlush(goAhead);
        return true;
    }

    /**
     * True when SASL EXTERNAL may be offered: the TLS handshake verified a client certificate that names a user (the
     * listener's {@code user-from} fields).
     */
    protected final boolean externalOffered() {
        ClientCertificate certificate = session.clientCertificate();
        return certificate != null && certificate.user().isPresent();
    }

    /**
     * The request for a login attempt with {@code credentials}. An EXTERNAL exchange's credentials get the user
     * and the fingerprint of the session's certificate here, the one place that knows both.
     */
    protected final AuthRequest authRequest(Credentials credentials, String smtpHelo) {
        ClientCertificate certificate = session.clientCertificate();
        Credentials presented = credentials;
        if (credentials.isExternal()) {
            if (!externalOffered()) {
                throw new IllegalStateException("EXTERNAL without a certificate that names a user");
            }
            presented = Credentials.external(
                    credentials.authzid(), certificate.user().get(), certificate.sha256());
        }
        return new AuthRequest(
                presented,
                listener.protocol(),
                listener.name(),
                session.clientAddress(),
                session.localAddress(),
                session.tlsProtocol(),
                session.tlsCipher(),
                ++loginAttempts,
                session.id(),
                smtpHelo,
                null,
                null,
                certificate);
    }

    /**
     * Runs a login: stops decoding (pipelined commands wait raw in the buffer), then calls back on the event loop.
     * On success the subclass writes its success reply and calls {@link #handOver}; otherwise {@link #loginFailed}
     * counts the failure and decoding resumes.
     */
    protected final void login(AuthRequest request, BackendDialogue dialogue, LoginCallback callback) {
        loginStep.run(ctx, session, decoder(), request, dialogue, callback);
    }

    /** What a front end does with a login's outcome. */
    @FunctionalInterface
    protected interface LoginCallback {
        void done(LoginOutcome outcome);
    }

    /**
     * Counts a failed login. Returns true when the connection is being closed for having too many (the caller must
     * not reply further).
     */
    protected final boolean loginFailed() {
        if (++authFailures >= listener.limits().authFailures()) {
            services.metrics().connectionRefused(listener, "auth-failures");
            writeAndClose(tooManyErrorsReply(), CloseReason.AUTH_FAILED);
            return true;
        }
        return false;
    }

    /**
     * Ends the pre-auth phase after a successful login whose reply was written: removes the protocol handlers from
     * both channels and splices them.
     *
     * @param backendHandlers the dialogue's handler names ({@link BackendDialogue#handlerNames()})
     */
    protected final void handOver(List<String> backendHandlers) {
        phase.end();
        if (!Relay.isInputShutdown(ctx.channel())) {
            ctx.channel().config().setAutoRead(true);
        }
        Handover.toRelay(session, List.of(HandlerNames.SESSION, HandlerNames.DECODER), backendHandlers);
    }

    /** Ends the session after the client said goodbye (LOGOUT, QUIT): the reply is flushed first. */
    protected final void goodbye(String reply) {
        writeAndClose(reply, CloseReason.CLIENT_CLOSED);
    }
}
