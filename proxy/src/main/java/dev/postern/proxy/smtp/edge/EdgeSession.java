package dev.postern.proxy.smtp.edge;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.config.SmtpConfig;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.smtp.SmtpCommand;
import dev.postern.proxy.smtp.SmtpInput;
import dev.postern.proxy.smtp.SmtpReply;
import dev.postern.proxy.smtp.TransactionSession;
import io.netty.channel.ChannelHandlerContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The port-25 edge session (RFC 5321 with PIPELINING, SIZE, ENHANCEDSTATUSCODES, STARTTLS, and 8BITMIME, DSN, SMTPUTF8
 * and CHUNKING when the backends have them): the MX edge that other servers deliver to. Postern stays in the dialogue
 * for the whole connection: it answers EHLO/HELO and STARTTLS ({@link EdgeHello}), NOOP, RSET, VRFY, HELP and QUIT
 * itself, checks every MAIL and RCPT (syntax, limits, SPF, relay access: only the local domains, unless the client is
 * in a trusted network), and hands each transaction to a backend of the recipients' pool ({@link EdgeTransactions}),
 * whose replies are the client's answers. Postern never accepts a message itself.
 *
 * <p>Before the greeting is complete, {@link EdgeGreeting} applies the client limits and runs the tests (pregreet,
 * DNS lists). Commands are handled one at a time, in order, as in every {@link TransactionSession}: while one waits
 * for a check or the backend, nothing more is decoded, so pipelined commands (RFC 2920) wait in the decoder's buffer.
 */
final class EdgeSession extends TransactionSession {
    final Edge edge;
    final SmtpConfig smtp;
    private final EdgeTransactions transactions;
    InetAddress clientIp;
    boolean trusted;
    /** The DNS lists that block this client when the action is enforce, else null. */
    String blockedBy;
    /** Why the DNS lists could not judge this client when a failure tempfails ({@code dnsbl-failure}), else null. */
    String dnsUnanswered;

    final EdgeHello hello;

    private final EdgeGreeting greeting;
    private int errors;

    EdgeSession(ProxyServices services, ListenerConfig listener, LoginFlow loginFlow, Edge edge) {
        super(services, listener, loginFlow, Protocol.SMTP, edge.hostname, Phase.GREETING);
        this.edge = edge;
        this.smtp = edge.smtp;
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
    protected void forgetBeforeTls() {
        hello.forget();
        transactions.reset(true);
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
        writeReply(reply);
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

    EdgeTransactions transactions() {
        return transactions;
    }

    boolean secure() {
        return isSecure();
    }

    // ---- lifecycle

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        transactions.flushBackend();
        super.channelReadComplete(ctx);
    }

    @Override
    protected void cancelPending() {
        greeting.cancel();
    }

    @Override
    protected void closeBackends() {
        transactions.close();
    }

    @Override
    protected void abortBackends() {
        transactions.abort();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        phase = Phase.DONE;
        greeting.closed();
        transactions.close();
        super.channelInactive(ctx);
    }
}
