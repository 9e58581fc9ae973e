package dev.postern.proxy.smtp;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.config.SmtpConfig;
import dev.postern.config.SpfConfig;
import dev.postern.proxy.ProxyServices;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.frontend.BackendDialogueHandler;
import dev.postern.proxy.frontend.BackendLoginResult;
import dev.postern.proxy.routing.BackendConnector;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mail transactions of one relay session: MAIL (syntax, SIZE, SPF), RCPT (syntax, relay access, limits, the
 * recipient's pool), DATA and BDAT, RSET. A transaction goes to one backend, connected at its first recipient (or
 * reused from the previous transaction while the pool stays the same); MAIL is replayed there first, then each RCPT,
 * and the backend's replies are the client's answers. A recipient of another pool gets {@code 452 4.5.3}, which
 * senders retry in a later transaction (RFC 5321, section 4.5.3.1.10). The message streams through as it arrives;
 * the backend's reply to its end is the only answer the client gets.
 */
final class RelayTransactions {
    private static final Logger log = LoggerFactory.getLogger(RelayTransactions.class);

    static final String LOST = "451 4.4.2 Error: connection to the mail server lost; try again later";
    static final String UNAVAILABLE = "451 4.4.1 Error: mail server unavailable; try again later";
    static final String TOO_BIG = "552 5.3.4 Error: message size exceeds fixed limit";

    private final SmtpRelaySession s;
    private final ProxyServices services;
    private final ListenerConfig listener;
    private final SmtpConfig smtp;

    // the transaction
    private MailPath sender;
    private SenderPolicy.Outcome spf;
    private int recipients;
    private String pool;
    /** MAIL was accepted by the backend: it has a transaction open. */
    private boolean backendTransaction;
    /** The backend that had accepted recipients went away: this transaction cannot be completed. */
    private boolean broken;

    private int transactions;
    private int spfSequence;

    // the message in flight
    private long bytes;
    /** Why the message will be refused at its end (size, lost backend); bytes are dropped meanwhile. */
    private String failure;

    private boolean chunkLast;
    /** A BDAT refused up front: the reply once its chunk has been read. */
    private String chunkRefusal;
    /** The backend answered a BDAT before its chunk was through (or was lost): the answer, kept for the chunk end. */
    private SmtpReply earlyChunkReply;

    private boolean awaitingChunkReply;
    private boolean spfHeaderSent;

    private RelayBackend backend;

    RelayTransactions(SmtpRelaySession session) {
        this.s = session;
        this.services = session.services();
        this.listener = session.listener();
        this.smtp = session.smtp;
    }

    // ---- MAIL

    void mail(SmtpCommand c) {
        if (s.helo == null) {
            s.error("503 5.5.1 Error: send HELO/EHLO first");
            return;
        }
        if (sender != null) {
            s.error("503 5.5.1 Error: nested MAIL command");
            return;
        }
        if (smtp.requireTls() && !s.secure() && !s.trusted) {
            s.error("530 5.7.0 Must issue a STARTTLS command first");
            return;
        }
        String arg = c.argument();
        if (!arg.regionMatches(true, 0, "FROM:", 0, 5)) {
            s.error("501 5.5.4 Syntax: MAIL FROM:<address>");
            return;
        }
        int limit = smtp.limits().messagesPerConnection();
        if (limit > 0 && transactions >= limit) {
            services.metrics().connectionRefused(listener, "messages-per-connection");
            s.drop("421 4.7.0 " + s.hostname + " Error: too many messages in one connection", CloseReason.LIMIT);
            return;
        }
        MailPath path;
        try {
            path = MailPath.parse(arg.substring(5), true, false);
        } catch (MailPath.SyntaxException e) {
            s.error("501 5.1.7 Bad sender address syntax");
            return;
        }
        String unsupported = unsupported(path, true);
        if (unsupported != null) {
            s.error(unsupported);
            return;
        }
        MailPath.Parameter size = path.parameter("SIZE");
        if (size != null && Long.parseLong(size.value()) > smtp.maxMessageSize()) {
            services.metrics().smtpRejected(listener, "size");
            s.error(TOO_BIG);
            return;
        }
        if (smtp.spf().policy() == SpfConfig.Policy.OFF || s.trusted || s.clientIp == null) {
            accepted(path, null);
            return;
        }
        checkSpf(path);
    }

    /** The parameters this session's EHLO offered (SIZE always); the reply for the first other one, or null. */
    private String unsupported(MailPath path, boolean mail) {
        for (MailPath.Parameter p : path.parameters()) {
            String k = p.keyword();
            boolean ok;
            if (mail) {
                ok = switch (k) {
                    case "SIZE" -> p.value() != null && p.value().matches("[0-9]{1,18}");
                    case "BODY" -> s.offers("8BITMIME")
                            && p.value() != null
                            && Set.of("7BIT", "8BITMIME").contains(p.value().toUpperCase(java.util.Locale.ROOT));
                    case "SMTPUTF8" -> s.offers("SMTPUTF8") && p.value() == null;
                    case "RET", "ENVID" -> s.offers("DSN") && p.value() != null;
                    default -> false;
                };
            } else {
                ok = (k.equals("NOTIFY") || k.equals("ORCPT")) && s.offers("DSN") && p.value() != null;
            }
            if (!ok) {
                return "555 5.5.4 Unsupported option: " + p;
            }
        }
        return null;
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
                .check(s.clientIp, s.helo, path.isNull() ? "" : path.address())
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
        if (sequence != spfSequence || !s.isOpen() || s.phase != SmtpRelaySession.Phase.WAITING) {
            return;
        }
        spfSequence++;
        if (smtp.spf().policy() == SpfConfig.Policy.REJECT && outcome.result() == SenderPolicy.Result.FAIL) {
            services.metrics().smtpRejected(listener, "spf");
            s.error("550 5.7.23 " + path.path() + ": Sender address rejected: SPF fail"
                    + (outcome.explanation() == null ? "" : " (" + printable(outcome.explanation()) + ")"));
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
        s.reply("250 2.1.0 Ok");
    }

    private String mailCommand() {
        StringBuilder sb = new StringBuilder("MAIL FROM:").append(sender.path());
        for (MailPath.Parameter p : sender.parameters()) {
            sb.append(' ').append(p);
        }
        return sb.toString();
    }

    // ---- RCPT

    void rcpt(SmtpCommand c) {
        if (sender == null) {
            s.error("503 5.5.1 Error: need MAIL command");
            return;
        }
        String arg = c.argument();
        if (!arg.regionMatches(true, 0, "TO:", 0, 3)) {
            s.error("501 5.5.4 Syntax: RCPT TO:<address>");
            return;
        }
        int limit = smtp.limits().recipientsPerMessage();
        if (limit > 0 && recipients >= limit) {
            services.metrics().smtpRejected(listener, "too-many-recipients");
            s.error("452 4.5.3 Error: too many recipients");
            return;
        }
        MailPath recipient;
        try {
            recipient = MailPath.parse(arg.substring(3), false, true);
        } catch (MailPath.SyntaxException e) {
            s.error("501 5.1.3 Bad recipient address syntax");
            return;
        }
        String unsupported = unsupported(recipient, false);
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
        Optional<String> routed =
                !s.trusted && recipient.hasRoutingInLocalPart() ? Optional.empty() : s.route(recipient);
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
                    mailCommand(),
                    r -> s.later(() -> {
                        if (!r.positive()) {
                            // the backend refused the sender: this recipient gets that answer, the next one tries again
                            s.relay(r);
                            s.proceed();
                            return;
                        }
                        backendTransaction = true;
                        pool = target;
                        rcptToBackend(b, recipient);
                    }));
        });
    }

    private void rcptToBackend(RelayBackend b, MailPath recipient) {
        StringBuilder line = new StringBuilder("RCPT TO:").append(recipient.path());
        for (MailPath.Parameter p : recipient.parameters()) {
            line.append(' ').append(p);
        }
        b.command(
                line.toString(),
                r -> s.later(() -> {
                    if (r == RelayBackend.LOST) {
                        s.error(LOST);
                    } else {
                        if (r.positive()) {
                            recipients++;
                        }
                        s.relay(r);
                    }
                    s.proceed();
                }));
    }

    // ---- DATA

    void dataCommand(SmtpCommand c) {
        if (c.hasArgument()) {
            s.error("501 5.5.4 Syntax: DATA");
            return;
        }
        String refusal = messageRefusal();
        if (refusal != null) {
            s.error(refusal);
            return;
        }
        RelayBackend b = backend;
        s.hold();
        b.command(
                "DATA",
                r -> s.later(() -> {
                    if (r.code() != 354) {
                        if (r == RelayBackend.LOST) {
                            s.error(LOST);
                        } else {
                            s.relay(r);
                        }
                        s.proceed();
                        return;
                    }
                    s.relay(r);
                    startMessage(b);
                    if (spf != null && spf.receivedSpf() != null) {
                        b.data(SmtpRelaySession.line(s.context(), spf.receivedSpf()));
                    }
                    s.relayDecoder().startData();
                    s.startMessage();
                }));
    }

    /** Why DATA or BDAT cannot start now, or null. */
    private String messageRefusal() {
        if (sender == null) {
            return "503 5.5.1 Error: need MAIL command";
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

    private void startMessage(RelayBackend b) {
        bytes = 0;
        failure = null;
        if (!b.isWritable()) {
            s.clientReading(false);
        }
    }

    /** Message bytes from the client (still owned by the caller). */
    void data(ByteBuf content) {
        int n = content.readableBytes();
        bytes += n;
        s.session().addBytesFromClient(n);
        if (failure != null) {
            return;
        }
        if (bytes > smtp.maxMessageSize()) {
            services.metrics().smtpRejected(listener, "size");
            failure = TOO_BIG;
            abort();
            return;
        }
        if (backend == null) {
            failure = LOST;
            return;
        }
        backend.data(content.retain());
        if (!backend.isWritable()) {
            s.clientReading(false);
        }
    }

    /** The end of data ({@code CRLF.CRLF}) or of a BDAT chunk. */
    void messageEnd(boolean dataEnd) {
        s.hold();
        if (dataEnd) {
            endOfData();
        } else {
            endOfChunk();
        }
    }

    private void endOfData() {
        if (failure != null) {
            String reply = failure;
            finish(false);
            s.error(reply);
            s.proceed();
            return;
        }
        RelayBackend b = backend;
        if (b == null) {
            finish(false);
            s.error(LOST);
            s.proceed();
            return;
        }
        b.commandThenData(
                ".",
                r -> s.later(() -> {
                    finish(r.positive());
                    if (r == RelayBackend.LOST) {
                        s.error(LOST);
                    } else {
                        s.relay(r);
                    }
                    s.proceed();
                }));
        b.flushAndWait();
    }

    // ---- BDAT (RFC 3030)

    void bdat(SmtpCommand c) {
        String[] parts = c.argument().trim().split(" +");
        long size = parts[0].matches("[0-9]{1,18}") ? Long.parseLong(parts[0]) : -1;
        if (size < 0) {
            // without a size the chunk cannot be found: its bytes would be read as commands
            s.drop("501 5.5.4 Syntax: BDAT size [LAST]", CloseReason.PROTOCOL_ERROR);
            return;
        }
        boolean last = parts.length == 2 && parts[1].equalsIgnoreCase("LAST");
        String refusal = null;
        if (parts.length > 2 || parts.length == 2 && !last) {
            refusal = "501 5.5.4 Syntax: BDAT size [LAST]";
        } else if (!s.offers("CHUNKING")) {
            refusal = "502 5.5.1 Error: command not implemented";
        } else {
            refusal = messageRefusal();
        }
        if (refusal == null && failure != null) {
            refusal = failure; // an earlier chunk of this message failed
        }
        if (refusal == null && bytes + size > smtp.maxMessageSize()) {
            services.metrics().smtpRejected(listener, "size");
            refusal = failure = TOO_BIG;
            abort();
        }
        if (refusal == null && !backend.supports("CHUNKING")) {
            refusal = "451 4.3.0 Error: the mail server for this destination does not take BDAT; use DATA";
        }
        chunkLast = last;
        if (refusal != null) {
            chunkRefusal = refusal;
            skipChunk(size);
            return;
        }
        RelayBackend b = backend;
        if (!spfHeaderSent) {
            spfHeaderSent = true;
            startMessage(b);
            if (spf != null && spf.receivedSpf() != null) {
                // the header goes first, as a chunk of its own (the client's chunk sizes stay as they are)
                ByteBuf header = SmtpRelaySession.line(s.context(), spf.receivedSpf());
                b.commandThenData("BDAT " + header.readableBytes(), r -> {});
                b.data(header);
            }
        }
        earlyChunkReply = null;
        awaitingChunkReply = true;
        b.commandThenData("BDAT " + size + (last ? " LAST" : ""), r -> s.later(() -> chunkReply(r)));
        if (size == 0) {
            s.hold();
            endOfChunk();
            return;
        }
        s.relayDecoder().startChunk(size, false);
        s.startMessage();
    }

    private void skipChunk(long size) {
        if (size == 0) {
            s.hold();
            endOfChunk();
            return;
        }
        s.relayDecoder().startChunk(size, true);
        s.startMessage();
    }

    private void endOfChunk() {
        if (chunkRefusal != null) {
            String reply = chunkRefusal;
            chunkRefusal = null;
            if (chunkLast && sender != null) {
                finish(false);
            }
            s.error(reply);
            s.proceed();
            return;
        }
        if (chunkLast && s.relayDecoder().chunkEndsWithBareCr()) {
            s.bareLineEnding("<CR>");
            return;
        }
        awaitingChunkReply = false;
        if (earlyChunkReply != null) {
            SmtpReply r = earlyChunkReply;
            earlyChunkReply = null;
            chunkReply(r);
            return;
        }
        if (failure != null) {
            // the backend went away during the chunk; its reply (LOST) comes through chunkReply
            return;
        }
        backend.flushAndWait();
    }

    private void chunkReply(SmtpReply r) {
        if (awaitingChunkReply) {
            earlyChunkReply = r; // answered before the chunk was through: kept for its end
            return;
        }
        if (chunkLast) {
            finish(r.positive());
        }
        if (r == RelayBackend.LOST) {
            s.error(LOST);
        } else {
            s.relay(r);
        }
        s.proceed();
    }

    /** The message is over (accepted or not): the transaction ends, the backend connection stays for the next. */
    private void finish(boolean accepted) {
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
                        s.reply(SmtpRelaySession.OK);
                        s.proceed();
                    }));
            return;
        }
        s.reply(SmtpRelaySession.OK);
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
        sender = null;
        spf = null;
        recipients = 0;
        pool = null;
        backendTransaction = false;
        broken = false;
        bytes = 0;
        failure = null;
        chunkRefusal = null;
        earlyChunkReply = null;
        awaitingChunkReply = false;
        spfHeaderSent = false;
        s.relayDecoder().newMessage();
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
        if (backend != null && s.phase == SmtpRelaySession.Phase.MESSAGE) {
            backend.flush();
        }
    }

    void backendWritable(RelayBackend b, boolean writable) {
        if (b == backend) {
            s.clientReading(writable);
        }
    }

    void backendClosed(RelayBackend b) {
        if (b != backend) {
            return;
        }
        backend = null;
        if (backendTransaction && recipients > 0) {
            broken = true;
        }
        backendTransaction = false;
        if (s.phase == SmtpRelaySession.Phase.MESSAGE) {
            failure = LOST;
            s.clientReading(true);
        }
    }

    // ---- backend connections

    /** Calls {@code ready} with a backend of {@code target} ready for MAIL, or answers {@link #UNAVAILABLE}. */
    private void withBackend(String target, Consumer<RelayBackend> ready) {
        if (backend != null && backend.usable() && backend.pool().equals(target)) {
            ready.accept(backend);
            return;
        }
        if (backend != null) {
            backend.quit();
            backend = null;
        }
        PoolRuntime p = services.pools().get(target);
        if (p == null) {
            log.warn("{}: a route names pool '{}', which does not exist", s.session(), target);
            s.later(() -> unavailable());
            return;
        }
        connect(p, ready);
    }

    private void unavailable() {
        s.error(UNAVAILABLE);
        s.proceed();
    }

    private void connect(PoolRuntime p, Consumer<RelayBackend> ready) {
        Session session = s.session();
        AuthRequest identity = new AuthRequest(
                null,
                Protocol.SMTP,
                listener.name(),
                session.clientAddress(),
                session.localAddress(),
                session.tlsProtocol(),
                session.tlsCipher(),
                0,
                session.id(),
                s.helo);
        RelayBackend[] made = new RelayBackend[1];
        @SuppressWarnings("unchecked")
        Promise<BackendLoginResult>[] result = new Promise[1];
        WriteBufferWaterMark wm = new WriteBufferWaterMark(
                listener.limits().writeBufferLow(), listener.limits().writeBufferHigh());
        Future<BackendConnector.Connection> connected = services.connector()
                .connect(
                        session,
                        p,
                        Protocol.SMTP,
                        b -> {
                            result[0] = session.client().eventLoop().newPromise();
                            made[0] = new RelayBackend(
                                    session,
                                    RelayBackend.request(identity, b.config(), b.pool()),
                                    services.tls(),
                                    result[0],
                                    services.capabilities(),
                                    s.hostname,
                                    s.helo,
                                    s.esmtp,
                                    listener.timeouts().preAuth());
                            RelayBackend handler = made[0];
                            return new ChannelInitializer<Channel>() {
                                @Override
                                protected void initChannel(Channel ch) {
                                    BackendDialogueHandler.install(ch, services.tls(), b.config(), handler);
                                }
                            };
                        },
                        listener.timeouts().connect(),
                        wm,
                        p.backends().size(),
                        // the balancer's affinity key: one client's transactions go to one backend where it can
                        s.clientIp == null ? session.id() : s.clientIp.getHostAddress());
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                log.info("{}: {}", session, f.cause().getMessage());
                s.later(this::unavailable);
                return;
            }
            BackendConnector.Connection c = connected.getNow();
            if (!s.isOpen()) {
                c.channel().close();
                return;
            }
            RelayBackend handler = made[0];
            Promise<BackendLoginResult> setup = result[0];
            c.channel().read();
            setup.addListener(d -> {
                BackendLoginResult r = setup.getNow();
                if (!s.isOpen()) {
                    c.channel().close();
                    return;
                }
                BackendConnector.PassiveHealth health = services.connector().passive();
                if (r instanceof BackendLoginResult.LoggedIn && c.channel().isActive()) {
                    health.observe(c.backend(), true, null);
                    backend = handler;
                    handler.owner(s);
                    session.attachBackend(
                            c.channel(), c.backend().pool(), c.backend().id());
                    s.later(() -> ready.accept(handler));
                    return;
                }
                c.channel().close();
                String why = r instanceof BackendLoginResult.Failed fl
                        ? fl.reason()
                        : r instanceof BackendLoginResult.Refused rf ? rf.reply() : String.valueOf(d.cause());
                log.info("{}: backend {} not ready: {}", session, c.backend(), why);
                // a backend that greets with 4xx/5xx, breaks the dialogue or closes counts against it
                health.observe(c.backend(), false, why);
                s.later(this::unavailable);
            });
        });
    }
}
