package dev.postern.proxy.smtp.edge;

import dev.postern.config.DnsFailure;
import dev.postern.config.ListenerConfig;
import dev.postern.config.SmtpConfig;
import dev.postern.config.SpfConfig;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.smtp.Envelope;
import dev.postern.proxy.smtp.MailPath;
import dev.postern.proxy.smtp.SmtpCommand;
import dev.postern.proxy.smtp.TransactionSession;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * MAIL on the edge, the first state of a transaction: the sender's syntax and parameters, the messages-per-connection
 * limit, SIZE, and SPF (asked while the session holds its input, with a deadline of its own). An accepted sender is
 * only remembered: the backend hears MAIL when the first recipient has chosen it ({@link EdgeTransactions}).
 */
final class EdgeSender {
    private final EdgeSession s;
    private final ProxyServices services;
    private final ListenerConfig listener;
    private final SmtpConfig smtp;

    private MailPath sender;
    private SenderPolicy.Outcome spf;
    /** Transactions begun on this connection. */
    private int transactions;

    private int spfSequence;

    EdgeSender(EdgeSession session) {
        this.s = session;
        this.services = session.services();
        this.listener = session.listener();
        this.smtp = session.smtp;
    }

    /** A sender was accepted: the transaction is open. */
    boolean given() {
        return sender != null;
    }

    /** The SPF outcome for the sender, or null when it was not checked. */
    SenderPolicy.Outcome spf() {
        return spf;
    }

    /** The transaction ended: no sender any more. */
    void reset() {
        sender = null;
        spf = null;
    }

    void mail(SmtpCommand c) {
        if (s.hello.name() == null) {
            s.error("503 5.5.1 Error: send HELO/EHLO first");
            return;
        }
        if (sender != null) {
            s.error(Envelope.NESTED_MAIL);
            return;
        }
        if (smtp.requireTls() && !s.secure() && !s.trusted) {
            s.error("530 5.7.0 Must issue a STARTTLS command first");
            return;
        }
        String from = Envelope.from(c);
        if (from == null) {
            s.error(Envelope.MAIL_SYNTAX);
            return;
        }
        int limit = smtp.limits().messagesPerConnection();
        if (limit > 0 && transactions >= limit) {
            services.metrics().connectionRefused(listener, "messages-per-connection");
            s.drop("421 4.7.0 " + s.hostname() + " Error: too many messages in one connection", CloseReason.LIMIT);
            return;
        }
        MailPath path = Envelope.sender(from);
        if (path == null) {
            s.error(Envelope.BAD_SENDER);
            return;
        }
        String unsupported = s.hello.unsupported(path, true);
        if (unsupported != null) {
            s.error(unsupported);
            return;
        }
        MailPath.Parameter size = path.parameter("SIZE");
        if (size != null && Long.parseLong(size.value()) > smtp.maxMessageSize()) {
            services.metrics().smtpRejected(listener, "size");
            s.error(Envelope.TOO_BIG);
            return;
        }
        if (smtp.spf().policy() == SpfConfig.Policy.OFF || s.trusted || s.clientIp == null) {
            accepted(path, null);
            return;
        }
        checkSpf(path);
    }

    private void checkSpf(MailPath path) {
        s.hold();
        int sequence = ++spfSequence;
        Duration guard = smtp.spf().timeout().plus(Duration.ofSeconds(1));
        ScheduledFuture<?> timer = s.context()
                .executor()
                .schedule(
                        () -> spfChecked(
                                sequence,
                                path,
                                new SenderPolicy.Outcome(SenderPolicy.Result.TEMPERROR, "SPF check timed out", null)),
                        guard.toMillis(),
                        TimeUnit.MILLISECONDS);
        s.edge.senders
                .check(s.clientIp, s.hello.name(), path.isNull() ? "" : path.address())
                .whenComplete((outcome, e) -> s.later(() -> {
                    timer.cancel(false);
                    spfChecked(
                            sequence,
                            path,
                            e == null && outcome != null
                                    ? outcome
                                    : new SenderPolicy.Outcome(
                                            SenderPolicy.Result.TEMPERROR, "SPF check failed", null));
                }));
    }

    private void spfChecked(int sequence, MailPath path, SenderPolicy.Outcome outcome) {
        if (sequence != spfSequence || !s.isOpen() || s.phase() != TransactionSession.Phase.WAITING) {
            return;
        }
        spfSequence++;
        if (smtp.spf().policy() == SpfConfig.Policy.REJECT && outcome.result() == SenderPolicy.Result.FAIL) {
            services.metrics().smtpRejected(listener, "spf");
            s.error("550 5.7.23 " + path.path() + ": Sender address rejected: SPF fail"
                    + (outcome.explanation() == null ? "" : " (" + printable(outcome.explanation()) + ")"));
        } else if (smtp.spf().temperror() == DnsFailure.TEMPFAIL && outcome.result() == SenderPolicy.Result.TEMPERROR) {
            // RFC 7208 section 8.6: a temporary failure, 451 4.4.3
            services.metrics().smtpRejected(listener, "spf-temperror");
            s.error("451 4.4.3 " + path.path() + ": Sender address rejected: SPF temporary error; try again later");
        } else {
            accepted(path, outcome);
        }
        s.proceed();
    }

    private static String printable(String text) {
        StringBuilder sb = new StringBuilder(Math.min(text.length(), 200));
        for (int i = 0; i < text.length() && sb.length() < 200; i++) {
            char c = text.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : ' ');
        }
        return sb.toString();
    }

    private void accepted(MailPath path, SenderPolicy.Outcome outcome) {
        sender = path;
        spf = outcome;
        transactions++;
        s.reply(Envelope.SENDER_OK);
    }

    /** The MAIL command as the backend gets it: the path as forwarded, and the parameters. */
    String mailCommand() {
        return Envelope.mail(sender, p -> true);
    }
}
