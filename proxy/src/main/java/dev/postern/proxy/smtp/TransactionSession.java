package dev.postern.proxy.smtp;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.frontend.PreAuthHandler;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.relay.Relay;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.util.List;

/**
 * A client session of the SMTP family that Postern keeps to the end, carrying its mail transactions to backends
 * itself ({@link TransactionBackend}): the port-25 edge and LMTP. This is their common flow control: commands are
 * handled one at a time, in order; while one waits for a check, a lookup or a backend ({@link #hold}), nothing more is
 * decoded, so pipelined commands wait in the decoder's buffer, and the pre-auth timeout bounds each wait for the
 * client. While message bytes flow, the backends' writability switches reading from the client ({@link
 * #clientReading}). A client's half-close still gets what it pipelined answered, then the session ends.
 */
public abstract class TransactionSession extends PreAuthHandler<Object> {
    public static final String OK = "250 2.0.0 Ok";

    /** Where the session stands. */
    public enum Phase {
        /** The greeting is not complete (the edge's tests are running). */
        GREETING,
        /** Waiting for the client's next command. */
        COMMAND,
        /** A command waits for a check, a lookup or a backend; nothing is decoded. */
        WAITING,
        /** Message bytes flow to the backends. */
        MESSAGE,
        /** Closing. */
        DONE
    }

    protected final String hostname;
    protected Phase phase;
    private final Protocol protocol;

    private boolean inputShutdown;
    private long lastTimerRestart;

    /** @param protocol the protocol the backends and the auth services hear of ({@code SMTP}, {@code LMTP}) */
    protected TransactionSession(
            ProxyServices services,
            ListenerConfig listener,
            LoginFlow loginFlow,
            Protocol protocol,
            String hostname,
            Phase initial) {
        super(services, listener, loginFlow, Object.class);
        this.protocol = protocol;
        this.hostname = hostname;
        this.phase = initial;
    }

    // ---- what a subclass does with its backends

    /** The session ends: QUIT to the backends, or, while message bytes flow, close them. */
    protected abstract void closeBackends();

    /** The client half-closed mid-message: the message can never be complete, no backend may take what it got. */
    protected abstract void abortBackends();

    /** Stops the session's own timers and checks when it closes (none by default). */
    protected void cancelPending() {}

    /** Forgets the client's hello and the transaction (and the backends, which heard of the client before TLS). */
    protected abstract void forgetBeforeTls();

    // ---- PreAuthHandler hooks

    @Override
    protected final void afterStartTls() {
        // RFC 3207: forget everything learned before TLS; the client must send EHLO (LHLO) again
        forgetBeforeTls();
        phase = Phase.COMMAND;
        restartPreAuthTimer();
    }

    @Override
    protected String lineTooLongReply() {
        return "500 5.5.6 " + hostname + " Error: line too long";
    }

    @Override
    protected String timeoutReply() {
        return "421 4.4.2 " + hostname + " Error: timeout exceeded";
    }

    @Override
    protected String tooManyErrorsReply() {
        return "421 4.7.0 " + hostname + " Error: too many errors";
    }

    // ---- services for the transactions

    public final Phase phase() {
        return phase;
    }

    public final String hostname() {
        return hostname;
    }

    /** The session's facts for auth services and backends: client, TLS, the HELO name and the sender if known. */
    public final AuthRequest identity(String helo, String sender) {
        return new AuthRequest(
                null,
                protocol,
                listener.name(),
                session.clientAddress(),
                session.localAddress(),
                session.tlsProtocol(),
                session.tlsCipher(),
                0,
                session.id(),
                helo,
                sender,
                null);
    }

    /** Writes a reply (flushed when the client's reads are done, or by {@link #proceed}). */
    public final void reply(String line) {
        write(line);
    }

    /** Writes an SMTP reply as it is, one line per line of it. */
    protected final void writeReply(SmtpReply reply) {
        List<String> lines = reply.lines();
        for (int i = 0; i < lines.size(); i++) {
            String text = lines.get(i);
            write(reply.code() + (i == lines.size() - 1 ? (text.isEmpty() ? "" : " ") : "-") + text);
        }
    }

    /** Writes a last reply and closes the connection. */
    public final void drop(String reply, CloseReason reason) {
        phase = Phase.DONE;
        cancelPending();
        writeAndClose(reply, reason);
    }

    /** Stops decoding and reading while a command waits for a check, a lookup or a backend. */
    public final void hold() {
        if (phase != Phase.GREETING) {
            phase = Phase.WAITING;
        }
        decoder().pause();
        ctx.channel().config().setAutoRead(false);
        pausePreAuthTimer();
    }

    /** The waiting command was answered: flush, then decode what the client pipelined meanwhile. */
    public final void proceed() {
        if (!isOpen()) {
            return;
        }
        phase = Phase.COMMAND;
        ctx.flush();
        restartPreAuthTimer();
        proceedReading();
    }

    /** The message bytes may flow (after {@code 354}, or right after a BDAT command). */
    public final void startMessage() {
        phase = Phase.MESSAGE;
        ctx.flush();
        restartPreAuthTimer();
        proceedReading();
    }

    /** Reading from the client on again, and decoding what it sent meanwhile. */
    protected final void proceedReading() {
        if (!inputShutdown && !Relay.isInputShutdown(ctx.channel())) {
            ctx.channel().config().setAutoRead(true);
            ctx.read();
        }
        decoder().resume();
        if (inputShutdown && phase == Phase.COMMAND && decoder().bufferedBytes() == 0) {
            clientGone();
        }
    }

    /** Reading from the client on or off while message bytes flow (backpressure from the backends). */
    public final void clientReading(boolean on) {
        if (phase != Phase.MESSAGE || inputShutdown || Relay.isInputShutdown(ctx.channel())) {
            return;
        }
        ctx.channel().config().setAutoRead(on);
        if (on) {
            ctx.read();
        }
    }

    /** Runs {@code task} on the event loop later, never inline: the decoder must not be re-entered. */
    public final void later(Runnable task) {
        ctx.executor().execute(() -> {
            if (isOpen()) {
                task.run();
            }
        });
    }

    public final boolean isOpen() {
        return phase != Phase.DONE && ctx.channel().isActive();
    }

    /** Message bytes keep the client's turn alive; the timer is restarted at most once a second. */
    protected final void touch() {
        long now = System.nanoTime();
        if (now - lastTimerRestart > 1_000_000_000L) {
            lastTimerRestart = now;
            restartPreAuthTimer();
        }
    }

    public final SmtpDecoder smtpDecoder() {
        return (SmtpDecoder) decoder();
    }

    public final ProxyServices services() {
        return services;
    }

    public final ListenerConfig listener() {
        return listener;
    }

    public final Session session() {
        return session;
    }

    public final ChannelHandlerContext context() {
        return ctx;
    }

    // ---- lifecycle

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // the client sent everything it will send: what it pipelined is still answered, then the session ends
            inputShutdown = true;
            if (phase == Phase.MESSAGE) {
                abortBackends();
                clientGone();
            } else if (phase == Phase.COMMAND && decoder().bufferedBytes() == 0 || phase == Phase.GREETING) {
                clientGone();
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    private void clientGone() {
        if (phase == Phase.DONE) {
            return;
        }
        phase = Phase.DONE;
        cancelPending();
        closeBackends();
        pausePreAuthTimer();
        session.closeAfterFlush(CloseReason.CLIENT_CLOSED, null);
    }
}
