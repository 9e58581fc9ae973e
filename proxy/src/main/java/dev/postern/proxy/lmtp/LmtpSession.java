package dev.postern.proxy.lmtp;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.config.SmtpConfig;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.frontend.PreAuthHandler;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.relay.Relay;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.smtp.SmtpCommand;
import dev.postern.proxy.smtp.SmtpDecoder;
import dev.postern.proxy.smtp.SmtpInput;
import dev.postern.proxy.smtp.SmtpReply;
import dev.postern.proxy.smtp.TransactionBackend;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.util.List;

/**
 * The LMTP session (RFC 2033 with PIPELINING, ENHANCEDSTATUSCODES, SIZE, 8BITMIME and STARTTLS): Postern answers
 * LHLO, STARTTLS, NOOP, RSET, VRFY, HELP and QUIT itself, and hands MAIL and RCPT to the {@link LmtpEnvelope}, DATA
 * to the {@link LmtpDelivery}. Commands are handled one at a time, in order: while one waits for a lookup or a
 * backend, nothing more is decoded, so pipelined commands wait in the decoder's buffer. The listener's pre-auth
 * timeout bounds each wait for the client.
 */
final class LmtpSession extends PreAuthHandler<Object> {
    static final String OK = "250 2.0.0 Ok";

    /** Where the session stands. */
    enum Phase {
        /** Waiting for the client's next command. */
        COMMAND,
        /** A command waits for a lookup or a backend; nothing is decoded. */
        WAITING,
        /** Message bytes flow to the backends. */
        MESSAGE,
        /** Closing. */
        DONE
    }

    private final String hostname;
    final SmtpConfig smtp;
    final RecipientLookup lookup;
    private final LmtpEnvelope envelope;
    private final LmtpDelivery delivery;
    Phase phase = Phase.COMMAND;
    /** The client's LHLO name, null before one. */
    private String lhlo;

    private boolean inputShutdown;
    private long lastTimerRestart;

    LmtpSession(
            ProxyServices services,
            ListenerConfig listener,
            LoginFlow loginFlow,
            String hostname,
            RecipientLookup lookup) {
        super(services, listener, loginFlow, Object.class);
        this.hostname = hostname;
        this.smtp = listener.smtp();
        this.lookup = lookup;
        this.envelope = new LmtpEnvelope(this);
        this.delivery = new LmtpDelivery(this, envelope);
    }

    // ---- PreAuthHandler hooks

    @Override
    protected void greet() {
        writeAndFlush("220 " + hostname + " LMTP Postern ready");
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

    @Override
    protected void afterStartTls() {
        // RFC 3207: forget everything learned before TLS; the client must send LHLO again
        lhlo = null;
        envelope.reset(true);
        phase = Phase.COMMAND;
        restartPreAuthTimer();
    }

    // ---- input

    @Override
    protected void command(Object msg) {
        if (msg instanceof String line) {
            if (phase == Phase.COMMAND) {
                line(SmtpCommand.parse(line));
            }
        } else if (msg instanceof SmtpInput.Data data) {
            delivery.data(data.content());
            touch();
        } else if (msg == SmtpInput.DATA_END) {
            delivery.end();
        } else if (msg == SmtpInput.BARE_LF || msg == SmtpInput.BARE_CR) {
            services.metrics().smtpRejected(listener, "bare-line-ending");
            envelope.abort();
            drop(
                    "521 5.5.2 " + hostname + " Error: bare " + (msg == SmtpInput.BARE_LF ? "<LF>" : "<CR>")
                            + " received",
                    CloseReason.PROTOCOL_ERROR);
        }
    }

    private void line(SmtpCommand c) {
        switch (c.verb()) {
            case "LHLO" -> lhlo(c);
            case "EHLO", "HELO" -> error("500 5.5.1 Error: this is LMTP; send LHLO");
            case "STARTTLS" -> starttls(c);
            case "MAIL" -> {
                if (lhlo == null) {
                    error("503 5.5.1 Error: send LHLO first");
                } else {
                    envelope.mail(c);
                }
            }
            case "RCPT" -> envelope.rcpt(c);
            case "DATA" -> delivery.dataCommand(c);
            case "BDAT" -> error("502 5.5.1 Error: command not implemented");
            case "RSET" -> {
                if (c.hasArgument()) {
                    error("501 5.5.4 Syntax: RSET");
                } else {
                    envelope.reset(false);
                    write(OK);
                }
            }
            case "NOOP" -> write(OK);
            case "VRFY" -> write("252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
            case "HELP" -> write("214 2.0.0 Commands: LHLO STARTTLS MAIL RCPT DATA RSET NOOP VRFY QUIT");
            case "QUIT" -> {
                phase = Phase.DONE;
                envelope.close();
                goodbye("221 2.0.0 Bye");
            }
            default -> error("500 5.5.2 Error: command not recognized");
        }
    }

    private void lhlo(SmtpCommand c) {
        String name = c.argument().trim();
        if (name.isEmpty() || name.length() > 255 || !name.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
            error("501 5.5.4 Syntax: LHLO hostname");
            return;
        }
        // LHLO resets the transaction, like EHLO (RFC 5321, section 4.1.4)
        envelope.reset(false);
        lhlo = name;
        List<String> keywords = new java.util.ArrayList<>(
                List.of("PIPELINING", "ENHANCEDSTATUSCODES", "SIZE " + smtp.maxMessageSize(), "8BITMIME"));
        if (canStartTls()) {
            keywords.add("STARTTLS");
        }
        write("250-" + hostname);
        for (int i = 0; i < keywords.size(); i++) {
            write((i == keywords.size() - 1 ? "250 " : "250-") + keywords.get(i));
        }
    }

    private void starttls(SmtpCommand c) {
        if (c.hasArgument()) {
            error("501 5.5.4 Syntax: STARTTLS");
        } else if (isSecure()) {
            error("503 5.5.1 Error: TLS already active");
        } else if (!canStartTls()) {
            error("502 5.5.1 Error: command not implemented");
        } else {
            envelope.reset(true);
            if (!startTls("220 2.0.0 Ready to start TLS")) {
                phase = Phase.DONE;
            }
        }
    }

    // ---- services for the envelope and the delivery

    /** The session's facts for auth services and backends: client, TLS, LHLO name, and the sender if known. */
    AuthRequest identity(String sender) {
        return new AuthRequest(
                null,
                Protocol.LMTP,
                listener.name(),
                session.clientAddress(),
                session.localAddress(),
                session.tlsProtocol(),
                session.tlsCipher(),
                0,
                session.id(),
                lhlo,
                sender,
                null);
    }

    void reply(String line) {
        write(line);
    }

    /** Writes a syntax or sequence error and counts it; past the listener's limit the connection is closed. */
    void error(String reply) {
        if (!badCommand()) {
            write(reply);
        } else {
            phase = Phase.DONE;
            envelope.close();
        }
    }

    /**
     * Writes a backend's reply to the client as it is, except a {@code 421}: that closes the backend's connection, not
     * this one, and would make the MTA give up on every recipient of the session; it becomes a {@code 451}.
     */
    void forward(SmtpReply backendReply) {
        SmtpReply reply = backendReply.code() == 421 ? TransactionBackend.LOST : backendReply;
        List<String> lines = reply.lines();
        for (int i = 0; i < lines.size(); i++) {
            String text = lines.get(i);
            write(reply.code() + (i == lines.size() - 1 ? (text.isEmpty() ? "" : " ") : "-") + text);
        }
    }

    /** Writes a last reply and closes the connection. */
    void drop(String reply, CloseReason reason) {
        phase = Phase.DONE;
        writeAndClose(reply, reason);
    }

    /** Stops decoding and reading while a command waits for a lookup or a backend. */
    void hold() {
        phase = Phase.WAITING;
        decoder().pause();
        ctx.channel().config().setAutoRead(false);
        pausePreAuthTimer();
    }

    /** The waiting command was answered: flush, then decode what the client pipelined meanwhile. */
    void proceed() {
        if (!isOpen()) {
            return;
        }
        phase = Phase.COMMAND;
        ctx.flush();
        restartPreAuthTimer();
        proceedReading();
    }

    /** The message bytes may flow (after {@code 354}). */
    void startMessage() {
        ((SmtpDecoder) decoder()).startData();
        phase = Phase.MESSAGE;
        ctx.flush();
        restartPreAuthTimer();
        proceedReading();
    }

    private void proceedReading() {
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
    void clientReading(boolean on) {
        if (phase != Phase.MESSAGE || inputShutdown || Relay.isInputShutdown(ctx.channel())) {
            return;
        }
        ctx.channel().config().setAutoRead(on);
        if (on) {
            ctx.read();
        }
    }

    /** Runs {@code task} on the event loop later, never inline: the decoder must not be re-entered. */
    void later(Runnable task) {
        ctx.executor().execute(() -> {
            if (isOpen()) {
                task.run();
            }
        });
    }

    boolean isOpen() {
        return phase != Phase.DONE && ctx.channel().isActive();
    }

    String hostname() {
        return hostname;
    }

    LmtpEnvelope envelope() {
        return envelope;
    }

    ProxyServices services() {
        return services;
    }

    ListenerConfig listener() {
        return listener;
    }

    Session session() {
        return session;
    }

    ChannelHandlerContext context() {
        return ctx;
    }

    /** Message bytes keep the client's turn alive; the timer is restarted at most once a second. */
    private void touch() {
        long now = System.nanoTime();
        if (now - lastTimerRestart > 1_000_000_000L) {
            lastTimerRestart = now;
            restartPreAuthTimer();
        }
    }

    // ---- lifecycle

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        envelope.flushBackends();
        super.channelReadComplete(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // what the client pipelined before its half-close is still answered, then the session ends
            inputShutdown = true;
            if (phase == Phase.MESSAGE) {
                // the message can never be complete: no backend may take what it got
                envelope.abort();
                clientGone();
            } else if (phase == Phase.COMMAND && decoder().bufferedBytes() == 0) {
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
        envelope.close();
        pausePreAuthTimer();
        session.closeAfterFlush(CloseReason.CLIENT_CLOSED, null);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        phase = Phase.DONE;
        envelope.close();
        super.channelInactive(ctx);
    }
}
