package dev.postern.proxy.lmtp;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.config.SmtpConfig;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.smtp.SmtpCommand;
import dev.postern.proxy.smtp.SmtpInput;
import dev.postern.proxy.smtp.SmtpReply;
import dev.postern.proxy.smtp.TransactionBackend;
import dev.postern.proxy.smtp.TransactionSession;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayList;
import java.util.List;

/**
 * The LMTP session (RFC 2033 with PIPELINING, ENHANCEDSTATUSCODES, SIZE, 8BITMIME and STARTTLS): Postern answers
 * LHLO, STARTTLS, NOOP, RSET, VRFY, HELP and QUIT itself, and hands MAIL and RCPT to the {@link LmtpEnvelope}, DATA
 * to the {@link LmtpDelivery}. Commands are handled one at a time, in order, as in every {@link TransactionSession}:
 * while one waits for a lookup or a backend, nothing more is decoded.
 */
final class LmtpSession extends TransactionSession {
    final SmtpConfig smtp;
    final RecipientLookup lookup;
    private final LmtpEnvelope envelope;
    private final LmtpDelivery delivery;
    /** The client's LHLO name, null before one. */
    private String lhlo;

    LmtpSession(
            ProxyServices services,
            ListenerConfig listener,
            LoginFlow loginFlow,
            String hostname,
            RecipientLookup lookup) {
        super(services, listener, loginFlow, Protocol.LMTP, hostname, Phase.COMMAND);
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
    protected void forgetBeforeTls() {
        lhlo = null;
        envelope.reset(true);
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
        List<String> keywords = new ArrayList<>(
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
        return identity(lhlo, sender);
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
        writeReply(backendReply.code() == 421 ? TransactionBackend.LOST : backendReply);
    }

    LmtpEnvelope envelope() {
        return envelope;
    }

    // ---- lifecycle

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        envelope.flushBackends();
        super.channelReadComplete(ctx);
    }

    @Override
    protected void closeBackends() {
        envelope.close();
    }

    @Override
    protected void abortBackends() {
        envelope.abort();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        phase = Phase.DONE;
        envelope.close();
        super.channelInactive(ctx);
    }
}
