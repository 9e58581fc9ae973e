package dev.postern.proxy.lmtp;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Pool;
import dev.postern.proxy.routing.BackendRuntime;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.smtp.Envelope;
import dev.postern.proxy.smtp.MailPath;
import dev.postern.proxy.smtp.SmtpCommand;
import dev.postern.proxy.smtp.SmtpReply;
import dev.postern.proxy.smtp.TransactionBackend;
import dev.postern.proxy.smtp.TransactionConnector;
import dev.postern.proxy.smtp.TransactionSession;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The envelope of an LMTP transaction and the backend connections that carry it. MAIL is checked and remembered;
 * each RCPT is looked up ({@link RecipientLookup}) and goes to the backend the recipient's pool picks for that user:
 * a connection of this session to that backend is reused, else one is opened ({@link TransactionConnector}). A backend hears
 * MAIL before its first recipient, so each backend has one transaction with the recipients it holds. The backend's
 * RCPT reply is the client's answer. Connections outlive a transaction, for the session's next one.
 */
final class LmtpEnvelope implements TransactionBackend.Owner {
    /** One backend connection and its part of the transaction. */
    static final class Target {
        final TransactionBackend link;
        /** The backend accepted MAIL: it has a transaction open. */
        boolean mailAccepted;
        /** Its accepted recipients, in RCPT order. */
        final List<Recipient> recipients = new ArrayList<>();

        Target(TransactionBackend link) {
            this.link = link;
        }
    }

    /** An accepted recipient, and the reply its backend gave to the end of data (null until then). */
    static final class Recipient {
        final MailPath path;
        final Target target;
        SmtpReply reply;

        Recipient(MailPath path, Target target) {
            this.path = path;
            this.target = target;
        }
    }

    private final LmtpSession s;
    private final ProxyServices services;
    private final ListenerConfig listener;
    private final TransactionConnector connector;
    /** The session's backend connections, by pool and backend id. */
    private final Map<String, Target> targets = new LinkedHashMap<>();

    private MailPath sender;
    private final List<Recipient> recipients = new ArrayList<>();

    LmtpEnvelope(LmtpSession session) {
        this.s = session;
        this.services = session.services();
        this.listener = session.listener();
        this.connector = new TransactionConnector(session, this, LmtpBackend::new);
    }

    boolean hasSender() {
        return sender != null;
    }

    /** The accepted recipients, in RCPT order. */
    List<Recipient> recipients() {
        return recipients;
    }

    /** The backends holding accepted recipients. */
    List<Target> targetsWithRecipients() {
        List<Target> out = new ArrayList<>();
        for (Recipient r : recipients) {
            if (!out.contains(r.target)) {
                out.add(r.target);
            }
        }
        return out;
    }

    // ---- MAIL

    void mail(SmtpCommand c) {
        if (sender != null) {
            s.error(Envelope.NESTED_MAIL);
            return;
        }
        String from = Envelope.from(c);
        if (from == null) {
            s.error(Envelope.MAIL_SYNTAX);
            return;
        }
        MailPath path = Envelope.sender(from);
        if (path == null) {
            s.error(Envelope.BAD_SENDER);
            return;
        }
        for (MailPath.Parameter p : path.parameters()) {
            String refusal = refusal(p);
            if (refusal != null) {
                if (refusal.startsWith("552")) {
                    services.metrics().smtpRejected(listener, "size");
                    s.reply(refusal);
                } else {
                    s.error(refusal);
                }
                return;
            }
        }
        sender = path;
        s.reply(Envelope.SENDER_OK);
    }

    /** Why a MAIL parameter is refused, or null: SIZE within the limit, BODY of 8BITMIME; nothing else is offered. */
    private String refusal(MailPath.Parameter p) {
        String value = p.value() == null ? "" : p.value().toUpperCase(Locale.ROOT);
        return switch (p.keyword()) {
            case "SIZE" -> !value.matches("[0-9]{1,18}")
                    ? "501 5.5.4 Syntax: SIZE=number"
                    : Long.parseLong(value) > s.smtp.maxMessageSize() ? Envelope.TOO_BIG : null;
            case "BODY" -> value.equals("7BIT") || value.equals("8BITMIME") ? null : "501 5.5.4 Syntax: BODY=8BITMIME";
            default -> "555 5.5.4 Unsupported option: " + p;
        };
    }

    // ---- RCPT

    void rcpt(SmtpCommand c) {
        if (sender == null) {
            s.error(Envelope.NEED_MAIL);
            return;
        }
        String to = Envelope.to(c);
        if (to == null) {
            s.error(Envelope.RCPT_SYNTAX);
            return;
        }
        MailPath path = Envelope.recipient(to);
        if (path == null) {
            s.error(Envelope.BAD_RECIPIENT);
            return;
        }
        if (!path.parameters().isEmpty()) {
            s.error("555 5.5.4 Unsupported option: " + path.parameters().get(0));
            return;
        }
        int limit = s.smtp.limits().recipientsPerMessage();
        if (limit > 0 && recipients.size() >= limit) {
            services.metrics().smtpRejected(listener, "too-many-recipients");
            s.reply(Envelope.TOO_MANY_RECIPIENTS);
            return;
        }
        s.hold();
        s.lookup
                .find(s.session(), path.address(), s.identity(sender.path()))
                .addListener(f -> s.later(() -> located(path, (RecipientLookup.Answer) f.getNow())));
    }

    private void located(MailPath path, RecipientLookup.Answer answer) {
        if (answer instanceof RecipientLookup.Unknown) {
            services.metrics().smtpRejected(listener, "unknown-user");
            s.reply("550 5.1.1 " + path.path() + ": Recipient address rejected: User unknown");
            s.proceed();
        } else if (answer instanceof RecipientLookup.Unavailable u) {
            services.metrics().smtpRejected(listener, "lookup-failed");
            s.reply("451 4.3.0 " + path.path() + ": Temporary lookup failure; try again later");
            s.proceed();
        } else {
            RecipientLookup.Found found = (RecipientLookup.Found) answer;
            withTarget(found.pool(), found.user(), t -> toBackend(t, path), () -> {
                s.reply(Envelope.UNAVAILABLE);
                s.proceed();
            });
        }
    }

    private void toBackend(Target t, MailPath path) {
        if (t.mailAccepted) {
            rcptOn(t, path);
            return;
        }
        t.link.command(
                mailCommand(t.link),
                r -> s.later(() -> {
                    if (!r.positive()) {
                        // the backend refused the sender: this recipient gets that answer, the next one tries again
                        s.forward(r);
                        s.proceed();
                        return;
                    }
                    t.mailAccepted = true;
                    rcptOn(t, path);
                }));
    }

    /**
     * MAIL as {@code link} gets it: the parameters its LHLO offered ({@code SIZE}, {@code BODY} with {@code 8BITMIME});
     * Dovecot refuses a SIZE it did not offer.
     */
    private String mailCommand(TransactionBackend link) {
        return Envelope.mail(
                sender, p -> p.keyword().equals("SIZE") ? link.supports("SIZE") : link.supports("8BITMIME"));
    }

    private void rcptOn(Target t, MailPath path) {
        t.link.command(
                Envelope.rcpt(path), // no parameters: RCPT takes none here
                r -> s.later(() -> {
                    if (r.positive() && r != TransactionBackend.LOST) {
                        Recipient recipient = new Recipient(path, t);
                        t.recipients.add(recipient);
                        recipients.add(recipient);
                    }
                    s.forward(r);
                    s.proceed();
                }));
    }

    /**
     * Calls {@code ready} with this session's connection to the backend {@code pool} picks for {@code user}, or opens
     * one. A consistent-hash pool must get the user's own backend; for the other balancers any connection to the pool
     * will do, which keeps a message to many users of one pool in one backend transaction.
     */
    private void withTarget(PoolRuntime pool, String user, Consumer<Target> ready, Runnable unavailable) {
        boolean affinity = pool.config().balancer() == Pool.Balancer.CONSISTENT_HASH;
        List<BackendRuntime> preferred = pool.peek(user);
        for (Target t : targets.values()) {
            if (!t.link.usable() || !t.link.pool().equals(pool.name())) {
                continue;
            }
            if (!affinity
                    || !preferred.isEmpty()
                            && t.link.id()
                                    .equals(pool.name() + "/" + preferred.get(0).id())) {
                ready.accept(t);
                return;
            }
        }
        connector.connect(
                pool,
                s.identity(null),
                user,
                link -> {
                    Target existing = targets.get(link.id());
                    if (existing != null && existing.link.usable()) {
                        // the preferred backend failed and the pool's next one is one this session has already
                        link.quit();
                        ready.accept(existing);
                        return;
                    }
                    Target t = new Target(link);
                    targets.put(link.id(), t);
                    ready.accept(t);
                },
                unavailable);
    }

    // ---- the end of a transaction

    /** The transaction is over (after the end of data, or RSET): backends that still hold one of it get RSET. */
    void reset(boolean dropBackends) {
        if (dropBackends) {
            close();
        }
        for (Target t : List.copyOf(targets.values())) {
            if (t.mailAccepted) {
                t.mailAccepted = false;
                // answered in order before the next MAIL's reply; a backend that refuses RSET is given up
                t.link.command("RSET", r -> {
                    if (!r.positive()) {
                        t.link.abort();
                        targets.remove(t.link.id(), t);
                    }
                });
            }
            t.recipients.clear();
        }
        sender = null;
        recipients.clear();
    }

    /** The session ends: QUIT to every backend, or, while message bytes flow, close them (no partial message). */
    void close() {
        boolean midMessage = s.phase() == TransactionSession.Phase.MESSAGE;
        for (Target t : targets.values()) {
            if (midMessage) {
                t.link.abort();
            } else {
                t.link.quit();
            }
        }
        targets.clear();
        sender = null;
        recipients.clear();
    }

    /** Abandons every backend connection now: a message in progress there is discarded by the backend. */
    void abort() {
        for (Target t : targets.values()) {
            t.link.abort();
        }
        targets.clear();
    }

    void flushBackends() {
        if (s.phase() == TransactionSession.Phase.MESSAGE) {
            for (Target t : targets.values()) {
                t.link.flush();
            }
        }
    }

    /** Whether every backend taking the message can take more bytes now. */
    boolean allWritable() {
        for (Target t : targets.values()) {
            if (t.link.usable() && !t.link.isWritable()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void backendWritable(TransactionBackend b, boolean writable) {
        s.clientReading(writable && allWritable());
    }

    @Override
    public void backendClosed(TransactionBackend b) {
        Target t = targets.get(b.id());
        if (t != null && t.link == b) {
            // its recipients' replies are LOST already (every waiting reply gets it); new ones get a new connection
            targets.remove(b.id());
            s.clientReading(allWritable());
        }
    }
}
