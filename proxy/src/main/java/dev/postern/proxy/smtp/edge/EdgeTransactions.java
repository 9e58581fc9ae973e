package dev.postern.proxy.smtp.edge;

import dev.postern.config.ListenerConfig;
import dev.postern.config.SmtpConfig;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.smtp.Envelope;
import dev.postern.proxy.smtp.MailPath;
import dev.postern.proxy.smtp.SmtpCommand;
import dev.postern.proxy.smtp.SmtpReply;
import dev.postern.proxy.smtp.TransactionBackend;
import dev.postern.proxy.smtp.TransactionConnector;
import dev.postern.proxy.smtp.TransactionSession;
import io.netty.buffer.ByteBuf;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mail transactions of one edge session: MAIL ({@link EdgeSender}), RCPT (syntax, relay access, limits, the
 * recipient's pool), DATA and BDAT ({@link EdgeMessage}), RSET. A transaction goes to one backend, connected at its first recipient (or
 * reused from the previous transaction while the pool stays the same); MAIL is replayed there first, then each RCPT,
 * and the backend's replies are the client's answers. A recipient of another pool gets {@code 452 4.5.3}, which
 * senders retry in a later transaction (RFC 5321, section 4.5.3.1.10). The message streams through as it arrives;
 * the backend's reply to its end is the only answer the client gets.
 */
final class EdgeTransactions implements TransactionBackend.Owner {
    private static final Logger log = LoggerFactory.getLogger(EdgeTransactions.class);

    static final String LOST = "451 4.4.2 Error: connection to the mail server lost; try again later";

    private final EdgeSession s;
    private final ProxyServices services;
    private final ListenerConfig listener;
    private final SmtpConfig smtp;

    // the transaction
    private final EdgeSender sender;
    private int recipients;
    private String pool;
    /** MAIL was accepted by the backend: it has a transaction open. */
    private boolean backendTransaction;
    /** The backend that had accepted recipients went away: this transaction cannot be completed. */
    private boolean broken;

    private TransactionBackend backend;
    private final EdgeMessage message;
    private final TransactionConnector connector;

    EdgeTransactions(EdgeSession session) {
        this.s = session;
        this.services = session.services();
        this.listener = session.listener();
        this.smtp = session.smtp;
        this.sender = new EdgeSender(session);
        this.message = new EdgeMessage(session, this);
        this.connector =
                new TransactionConnector(session, this, setup -> new TransactionBackend(setup, session.hello.esmtp()));
    }

    // ---- MAIL (EdgeSender)

    void mail(SmtpCommand c) {
        sender.mail(c);
    }

    // ---- RCPT

    void rcpt(SmtpCommand c) {
        if (!sender.given()) {
            s.error(Envelope.NEED_MAIL);
            return;
        }
        String to = Envelope.to(c);
        if (to == null) {
            s.error(Envelope.RCPT_SYNTAX);
            return;
        }
        int limit = smtp.limits().recipientsPerMessage();
        if (limit > 0 && recipients >= limit) {
            services.metrics().smtpRejected(listener, "too-many-recipients");
            s.error(Envelope.TOO_MANY_RECIPIENTS);
            return;
        }
        MailPath recipient = Envelope.recipient(to);
        if (recipient == null) {
            s.error(Envelope.BAD_RECIPIENT);
            return;
        }
        String unsupported = s.hello.unsupported(recipient, false);
        if (unsupported != null) {
            s.error(unsupported);
            return;
        }
        if (s.blockedBy != null) {
            services.metrics().smtpRejected(listener, "dnsbl");
            s.error("550 5.7.1 Service unavailable; client [" + s.clientIp.getHostAddress() + "] blocked using "
                    + s.blockedBy);
            return;
        }
        if (s.dnsUnanswered != null) {
            services.metrics().smtpRejected(listener, "dnsbl-failure");
            s.error("451 4.7.1 Service unavailable; client [" + s.clientIp.getHostAddress() + "] not checked: "
                    + s.dnsUnanswered + "; try again later");
            return;
        }
        Optional<String> routed =
                !s.trusted && recipient.hasRoutingInLocalPart() ? Optional.empty() : s.edge.route(recipient, s.trusted);
        if (routed.isEmpty()) {
            services.metrics().smtpRejected(listener, "relay-denied");
            log.debug("{}: relay denied for {} from {}", s.session(), recipient.path(), s.clientIp);
            s.error("554 5.7.1 " + recipient.path() + ": Relay access denied");
            return;
        }
        if (broken) {
            s.error(LOST);
            return;
        }
        String target = routed.get();
        if (backendTransaction && !target.equals(pool)) {
            services.metrics().smtpRejected(listener, "other-destination");
            s.error("452 4.5.3 Error: recipient of another destination; send it in a new transaction");
            return;
        }
        s.hold();
        withBackend(target, b -> {
            if (backendTransaction) {
                rcptToBackend(b, recipient);
                return;
            }
            b.command(
                    sender.mailCommand(),
                    r -> s.later(() -> {
                        if (!r.positive()) {
                            // the backend refused the sender: this recipient gets that answer, the next one tries again
                            s.forward(r);
                            s.proceed();
                            return;
                        }
                        backendTransaction = true;
                        pool = target;
                        rcptToBackend(b, recipient);
                    }));
        });
    }

    private void rcptToBackend(TransactionBackend b, MailPath recipient) {
        b.command(
                Envelope.rcpt(recipient),
                r -> s.later(() -> {
                    if (r == TransactionBackend.LOST) {
                        s.error(LOST);
                    } else {
                        if (r.positive()) {
                            recipients++;
                        }
                        s.forward(r);
                    }
                    s.proceed();
                }));
    }

    // ---- the message (EdgeMessage)

    void dataCommand(SmtpCommand c) {
        message.dataCommand(c);
    }

    void bdat(SmtpCommand c) {
        message.bdat(c);
    }

    void data(ByteBuf content) {
        message.data(content);
    }

    void messageEnd(boolean dataEnd) {
        message.end(dataEnd);
    }

    void bareLineEnding(String what) {
        message.bareLineEnding(what);
    }

    /** Why DATA or BDAT cannot start now, or null. */
    String messageRefusal() {
        if (!sender.given()) {
            return Envelope.NEED_MAIL;
        }
        if (broken) {
            return LOST;
        }
        if (recipients == 0) {
            return "554 5.5.1 Error: no valid recipients";
        }
        if (backend == null || !backend.usable()) {
            broken = true;
            return LOST;
        }
        return null;
    }

    TransactionBackend backend() {
        return backend;
    }

    SenderPolicy.Outcome spf() {
        return sender.spf();
    }

    boolean hasSender() {
        return sender.given();
    }

    /** Writes a backend's reply to the client, or the temporary failure that stands for a lost backend. */
    void answer(SmtpReply r) {
        if (r == TransactionBackend.LOST) {
            s.error(LOST);
        } else {
            s.forward(r);
        }
    }

    /** The message is over (accepted or not): the transaction ends, the backend connection stays for the next. */
    void finish(boolean accepted, long bytes) {
        services.metrics().smtpMessage(listener, accepted, bytes);
        log.debug("{}: message of {} bytes {}", s.session(), bytes, accepted ? "accepted" : "refused");
        endTransaction();
    }

    // ---- RSET and the rest

    void rset() {
        boolean open = backendTransaction;
        endTransaction();
        if (open && backend != null && backend.usable()) {
            s.hold();
            backend.command(
                    "RSET",
                    r -> s.later(() -> {
                        if (!r.positive()) {
                            abort();
                        }
                        s.reply(EdgeSession.OK);
                        s.proceed();
                    }));
            return;
        }
        s.reply(EdgeSession.OK);
    }

    /** Forgets the transaction; with {@code dropBackend}, also the backend connection (a new identity comes). */
    void reset(boolean dropBackend) {
        endTransaction();
        if (dropBackend && backend != null) {
            backend.quit();
            backend = null;
        }
    }

    private void endTransaction() {
        sender.reset();
        recipients = 0;
        pool = null;
        backendTransaction = false;
        broken = false;
        message.reset();
    }

    /** The session ends: QUIT to the backend. */
    void close() {
        if (backend != null) {
            backend.quit();
            backend = null;
        }
    }

    /** Abandons the backend connection now: a message in progress there is discarded by the backend. */
    void abort() {
        if (backend != null) {
            backend.abort();
            backend = null;
        }
        if (backendTransaction && recipients > 0) {
            broken = true;
        }
        backendTransaction = false;
    }

    void flushBackend() {
        if (backend != null && s.phase() == TransactionSession.Phase.MESSAGE) {
            backend.flush();
        }
    }

    @Override
    public void backendWritable(TransactionBackend b, boolean writable) {
        if (b == backend) {
            s.clientReading(writable);
        }
    }

    @Override
    public void backendClosed(TransactionBackend b) {
        if (b != backend) {
            return;
        }
        backend = null;
        if (backendTransaction && recipients > 0) {
            broken = true;
        }
        backendTransaction = false;
        message.backendLost();
    }

    // ---- backend connections

    /** Calls {@code ready} with a backend of {@code target} ready for MAIL, or answers {@link Envelope#UNAVAILABLE}. */
    private void withBackend(String target, Consumer<TransactionBackend> ready) {
        if (backend != null && backend.usable() && backend.pool().equals(target)) {
            ready.accept(backend);
            return;
        }
        if (backend != null) {
            backend.quit();
            backend = null;
        }
        Runnable unavailable = () -> {
            s.error(Envelope.UNAVAILABLE);
            s.proceed();
        };
        PoolRuntime p = services.pools().get(target);
        if (p == null) {
            log.warn("{}: a route names pool '{}', which does not exist", s.session(), target);
            s.later(unavailable);
            return;
        }
        connector.connect(
                p,
                s.identity(s.hello.name(), null),
                // the balancer's affinity key: one client's transactions go to one backend where it can
                s.clientIp == null ? s.session().id() : s.clientIp.getHostAddress(),
                b -> {
                    backend = b;
                    ready.accept(b);
                },
                unavailable);
    }
}
