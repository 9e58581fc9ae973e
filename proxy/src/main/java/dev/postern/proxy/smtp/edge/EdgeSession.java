package dev.postern.proxy.smtp.edge;

import dev.postern.config.ListenerConfig;
import dev.postern.config.SmtpConfig;
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
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The port-25 edge session (RFC 5321 with PIPELINING, SIZE, ENHANCEDSTATUSCODES, STARTTLS, and 8BITMIME, DSN, SMTPUTF8
 * and CHUNKING when the backends have them): the MX edge that other servers deliver to. Postern stays in the dialogue
 * for the whole connection: it answers EHLO/HELO and STARTTLS ({@link EdgeHello}), NOOP, RSET, VRFY, HELP and QUIT
 * itself, checks every MAIL and RCPT (syntax, limits, SPF, relay access: only the local domains, unless the client is
 * in a trusted network), and hands each transaction to a backend of the recipients' pool ({@link EdgeTransactions}),
 * whose replies are the client's answers. Postern never accepts a message itself.
 *
 * <p>Before the greeting is complete, {@link EdgeGreeting} applies the client limits and runs the tests (pregreet,
 * DNS lists). Commands are handled one at a time, in order: while one waits for a check or the backend, nothing more
 * is decoded, so pipelined commands (RFC 2920) wait in the decoder's buffer. The pre-auth timeout bounds each wait for
 * the client.
 */
final class EdgeSession extends PreAuthHandler<Object> {
    static final String OK = "250 2.0.0 Ok";

    /** Where the session stands. */
    enum Phase {
        /** The greeting is not complete (tests running). */
        GREETING,
        /** Waiting for the client's next command. */
        COMMAND,
        /** A command waits for a check or the backend; nothing is decoded. */
        WAITING,
        /** Message bytes (DATA or a BDAT chunk) flow to the backend. */
        MESSAGE,
        /** Closing. */
        DONE
    }

    final Edge edge;
    final SmtpConfig smtp;
    final String hostname;
    private final EdgeTransactions transactions;
    Phase phase = Phase.GREETING;
    InetAddress clientIp;
    boolean trusted;
    /** The DNS lists that block this client when the action is enforce, else null. */
    String blockedBy;
    /** Why the DNS lists could not judge this client when a failure tempfails ({@code dnsbl-failure}), else null. */
    String dnsUnanswered;

    final EdgeHello hello;

    private final EdgeGreeting greeting;
    private boolean inputShutdown;
    private int errors;
    private long lastTimerRestart;

    EdgeSession(ProxyServices services, ListenerConfig listener, LoginFlow loginFlow, Edge edge) {
        super(services, listener, loginFlow, Object.class);
        this.edge = edge;
        this.smtp = edge.smtp;
        this.hostname = edge.hostname;
        this.hello = new EdgeHello(this);
        this.greeting = new EdgeGreeting(this);
        this.transactions = new EdgeTransactions(this);
    }

    // ---- PreAuthHandler hooks

    @Override
    protected void greet() {
        InetSocketAddress address = session.clientAddress();
        clientIp = address == null ? null : address.getAddress();
        trusted = clientIp != null && edge.trusted(clientIp);
        greeting.start(clientIp, trusted);
    }

    /** The greeting phase is over: the {@code 220}, then the client's commands. */
    void greeted() {
        phase = Phase.COMMAND;
        writeAndFlush("220 " + hostname + " ESMTP Postern");
        restartPreAuthTimer();
        proceedReading();
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
        // RFC 3207: forget everything learned before TLS; the client must send EHLO again
        hello.forget();
        transactions.reset(true);
        phase = Phase.COMMAND;
        restartPreAuthTimer();
    }

    // ---- input

    @Override
    protected void command(Object msg) {
        if (msg instanceof String line) {
            if (phase == Phase.GREETING) {
                if (greeting.listening()) {
                    greeting.pregreet();
                }
                return;
            }
            if (phase == Phase.COMMAND) {
                // the timeout is per command, as the README says: every command the client sends is its turn taken
                restartPreAuthTimer();
                line(line);
            }
        } else if (msg instanceof SmtpInput.Data data) {
            transactions.data(data.content());
            touch();
        } else if (msg == SmtpInput.DATA_END || msg == SmtpInput.CHUNK_END) {
            transactions.messageEnd(msg == SmtpInput.DATA_END);
        } else if (msg == SmtpInput.BARE_LF || msg == SmtpInput.BARE_CR) {
            transactions.bareLineEnding(msg == SmtpInput.BARE_LF ? "<LF>" : "<CR>");
        }
    }

    private void line(String line) {
        SmtpCommand c = SmtpCommand.parse(line);
        switch (c.verb()) {
            case "EHLO" -> hello.ehlo(c, true);
            case "HELO" -> hello.ehlo(c, false);
            case "STARTTLS" -> hello.starttls(c);
            case "MAIL" -> transactions.mail(c);
            case "RCPT" -> transactions.rcpt(c);
            case "DATA" -> transactions.dataCommand(c);
            case "BDAT" -> transactions.bdat(c);
            case "RSET" -> {
                if (c.hasArgument()) {
                    error("501 5.5.4 Syntax: RSET");
                } else {
                    transactions.rset();
                }
            }
            case "NOOP" -> write(OK);
            case "VRFY" -> {
                if (c.hasArgument()) {
                    write("252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
                } else {
                    error("501 5.5.4 Syntax: VRFY address");
                }
            }
            case "EXPN", "ETRN", "TURN", "AUTH" -> error("502 5.5.1 Error: command not implemented");
            case "HELP" -> write("214 2.0.0 Commands: EHLO HELO STARTTLS MAIL RCPT DATA BDAT RSET NOOP VRFY QUIT");
            case "QUIT" -> {
                phase = Phase.DONE;
                transactions.close();
                goodbye("221 2.0.0 Bye");
            }
            case "GET", "POST", "HEAD", "PUT", "CONNECT", "USER" -> {
                // a web or proxy client, or a POP3 one: not worth another reply
                services.metrics().connectionRefused(listener, "not-smtp");
                drop("521 5.5.1 " + hostname + " Error: protocol error", CloseReason.PROTOCOL_ERROR);
            }
            default -> error("500 5.5.2 Error: command not recognized");
        }
    }

    // ---- services for EdgeTransactions

    /** Writes a positive reply (flushed when the client's reads are done, or by {@link #proceed}). */
    void reply(String line) {
        write(line);
    }

    /** Writes a reply and flushes it at once. */
    void replyNow(String line) {
        writeAndFlush(line);
    }

    /** Whether this session may offer STARTTLS: the listener has TLS and it has not started yet. */
    boolean startTlsOffered() {
        return canStartTls();
    }

    /** Sends the go-ahead and starts TLS; the session ends when it cannot. */
    void beginTls(String goAhead) {
        if (!startTls(goAhead)) {
            phase = Phase.DONE;
        }
    }

    /** Writes an error reply and counts it; past the listener's limit the connection is closed after it. */
    void error(String reply) {
        write(reply);
        countError();
    }

    /** Writes a backend's reply to the client as it is, counting it when it is an error. */
    void forward(SmtpReply reply) {
        List<String> lines = reply.lines();
        for (int i = 0; i < lines.size(); i++) {
            String text = lines.get(i);
            write(reply.code() + (i == lines.size() - 1 ? (text.isEmpty() ? "" : " ") : "-") + text);
        }
        if (reply.code() >= 400) {
            countError();
        }
    }

    private void countError() {
        int limit = smtp.limits().errorsPerSession();
        if (limit > 0 && ++errors >= limit && phase != Phase.DONE) {
            services.metrics().connectionRefused(listener, "errors");
            transactions.close();
            drop(tooManyErrorsReply(), CloseReason.LIMIT);
        }
    }

    /** Writes a last reply and closes the connection. */
    void drop(String reply, CloseReason reason) {
        phase = Phase.DONE;
        greeting.cancel();
        writeAndClose(reply, reason);
    }

    /** Stops decoding and reading while a command waits for a check or the backend. */
    void hold() {
        if (phase != Phase.GREETING) {
            phase = Phase.WAITING;
        }
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

    /** The message bytes may flow (after {@code 354}, or right after a BDAT command). */
    void startMessage() {
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

    /** Reading from the client on or off while message bytes flow (backpressure from the backend). */
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

    SmtpDecoder edgeDecoder() {
        return (SmtpDecoder) decoder();
    }

    EdgeTransactions transactions() {
        return transactions;
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

    boolean secure() {
        return isSecure();
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
        transactions.flushBackend();
        super.channelReadComplete(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // the client sent everything it will send: what it pipelined is still answered, then the session ends
            inputShutdown = true;
            if (phase == Phase.MESSAGE) {
                // the message can never be complete: the backend must not take what it got
                transactions.abort();
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
        greeting.cancel();
        transactions.close();
        pausePreAuthTimer();
        session.closeAfterFlush(CloseReason.CLIENT_CLOSED, null);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        phase = Phase.DONE;
        greeting.closed();
        transactions.close();
        super.channelInactive(ctx);
    }
}
