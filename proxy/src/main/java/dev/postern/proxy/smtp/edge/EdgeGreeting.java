package dev.postern.proxy.smtp.edge;

import dev.postern.config.DnsFailure;
import dev.postern.config.DnsblConfig;
import dev.postern.config.SmtpConfig;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.smtp.TransactionSession;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge session's greeting phase: the per-client connection limits, then the tests before the greeting is
 * complete, run in parallel like postscreen's: the pregreet test (the first line of a multi-line {@code 220-}
 * greeting, a wait, and any byte from the client before the rest counts as talking out of turn) and the DNS lists
 * (queried at once, with a deadline). An allowlisting verdict ends the wait early; a blocking one with action drop
 * ends the connection at once. In a cluster, a client this node does not remember is looked up in the cluster's
 * memory beside the tests: a pass on another node ends them early; a client that passes here is never kept waiting
 * for that answer, and one the lists block waits for it {@link #SHARED_LOOKUP_WAIT} at most. Runs on the session's
 * event loop.
 */
final class EdgeGreeting {
    private static final Logger log = LoggerFactory.getLogger(EdgeGreeting.class);

    /** Margin over the lists' own deadline, after which the greeting goes on without them. */
    static final Duration VERDICT_MARGIN = Duration.ofMillis(500);

    /** How long a refusal waits for the cluster's memory, which may know the client as one that passed. */
    static final Duration SHARED_LOOKUP_WAIT = Duration.ofMillis(250);

    /** What the tests decided. */
    sealed interface Outcome permits Greet, Drop {}

    /**
     * Complete the greeting.
     *
     * @param blockedBy the lists that block the client when the action is enforce (the session refuses every RCPT),
     *     else null
     */
    record Greet(String blockedBy) implements Outcome {}

    /**
     * Refuse the client.
     *
     * @param reply the final reply
     * @param reason the metric label ({@code pregreet}, {@code dnsbl})
     */
    record Drop(String reply, String reason) implements Outcome {}

    private final EdgeSession s;
    private final Edge edge;
    private InetAddress client;
    private EventLoop loop;
    /** The client was counted by the limits: released when the connection closes. */
    private boolean admitted;
    /** The tests are running or ran. */
    private boolean started;

    private boolean waited;
    private boolean verdictIn;
    private ClientReputation.Verdict verdict;
    private boolean decided;
    private ScheduledFuture<?> waitTimer;
    private ScheduledFuture<?> verdictTimer;
    /** The cluster's memory was asked and has not answered yet. */
    private boolean lookupPending;

    private ScheduledFuture<?> lookupTimer;
    /** A refusal by the lists, held until the cluster's memory answers. */
    private Drop heldDrop;
    /** The lists' verdict for metrics: pass, blocked, allowlisted or timeout; null when no lists were asked. */
    private String verdictLabel;

    EdgeGreeting(EdgeSession session) {
        this.s = session;
        this.edge = session.edge;
    }

    /**
     * The connection is up: the per-client limits, then the tests, or the {@code 220} at once for a client that needs
     * none.
     */
    void start(InetAddress clientIp, boolean trusted) {
        client = clientIp;
        if (client != null && !trusted) {
            ClientLimits.Refusal refusal = edge.limits.admit(client);
            if (refusal != null) {
                s.services().metrics().connectionRefused(s.listener(), "client-limit");
                s.drop(
                        "421 4.7.0 " + edge.hostname + " Error: " + refusal.text + " from " + client.getHostAddress(),
                        CloseReason.LIMIT);
                return;
            }
            admitted = true;
        }
        if (!needed(edge, client, trusted)) {
            s.greeted();
            return;
        }
        loop = s.context().channel().eventLoop();
        started = true;
        lookUp();
        String first = startTests();
        if (first != null) {
            s.replyNow(first);
        } else {
            // no pregreet test: bytes sent early just wait for the greeting
            s.hold();
        }
    }

    /** Whether a client must take the tests: not trusted, allowlisted or remembered, and some test is on. */
    static boolean needed(Edge edge, InetAddress client, boolean trusted) {
        if (client == null || trusted || edge.allowlisted(client) || edge.passed.contains(client)) {
            return false;
        }
        return edge.smtp.pregreet().isPresent() || edge.smtp.dnsbl().isPresent();
    }

    /** Asks the cluster's memory, beside the tests, whether another node passed the client. */
    private void lookUp() {
        if (!edge.passed.isShared()) {
            return;
        }
        lookupPending = true;
        lookupTimer = loop.schedule(() -> remembered(false), SHARED_LOOKUP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        edge.passed
                .containsShared(client)
                .whenComplete((found, e) -> loop.execute(() -> remembered(e == null && Boolean.TRUE.equals(found))));
    }

    /** The cluster's memory answered (or took too long: not found). */
    private void remembered(boolean found) {
        if (!lookupPending || decided) {
            return;
        }
        lookupPending = false;
        if (lookupTimer != null) {
            lookupTimer.cancel(false);
        }
        if (found) {
            log.debug("{}: client {} passed on another node", s.session(), client.getHostAddress());
            decide(new Greet(null));
        } else if (heldDrop != null) {
            decide(heldDrop);
        } else {
            settle();
        }
    }

    /**
     * Starts the tests; returns the first greeting line to send now ({@code 220-banner}), or null without pregreet.
     */
    private String startTests() {
        SmtpConfig smtp = edge.smtp;
        if (smtp.dnsbl().isPresent()) {
            Duration deadline = smtp.dnsbl().get().timeout().plus(VERDICT_MARGIN);
            verdictTimer = loop.schedule(() -> verdict(null), deadline.toMillis(), TimeUnit.MILLISECONDS);
            edge.reputation.check(client).whenComplete((v, e) -> loop.execute(() -> verdict(e == null ? v : null)));
        } else {
            verdictIn = true;
        }
        if (smtp.pregreet().isEmpty()) {
            waited = true;
            return null;
        }
        SmtpConfig.Pregreet p = smtp.pregreet().get();
        waitTimer = loop.schedule(this::waitOver, p.delay().toMillis(), TimeUnit.MILLISECONDS);
        return "220-" + p.banner();
    }

    /** Whether the pregreet wait is running: client bytes now are talking out of turn. */
    boolean listening() {
        return started && !decided && edge.smtp.pregreet().isPresent() && !waited;
    }

    /** The client talked before its turn. */
    void pregreet() {
        decide(new Drop(
                "521 5.5.1 " + edge.hostname + " Error: protocol error (talked before the greeting)", "pregreet"));
    }

    /** The session ends: stop the timers. */
    void cancel() {
        decided = true;
        cancelTimers();
    }

    /** The connection closed: stop the timers, and the client's connection no longer counts. */
    void closed() {
        cancel();
        if (admitted) {
            admitted = false;
            edge.limits.release(client);
        }
    }

    private void waitOver() {
        if (decided) {
            return;
        }
        // bytes that are not a complete line yet (complete lines arrive through pregreet)
        if (s.smtpDecoder().bufferedBytes() > 0) {
            pregreet();
            return;
        }
        waited = true;
        settle();
    }

    private void verdict(ClientReputation.Verdict v) {
        if (verdictIn || decided) {
            return;
        }
        verdictIn = true;
        verdict = v;
        if (verdictTimer != null) {
            verdictTimer.cancel(false);
        }
        DnsblConfig dnsbl = edge.smtp.dnsbl().orElseThrow();
        if (v == null) {
            verdictLabel = "timeout";
        } else if (dnsbl.blocks(v.score())) {
            verdictLabel = "blocked";
            if (edge.smtp.dnsblAction() == SmtpConfig.DnsblAction.DROP) {
                Drop drop = new Drop(blockedReply(v), "dnsbl");
                if (lookupPending) {
                    heldDrop = drop;
                } else {
                    decide(drop);
                }
                return;
            }
        } else if (dnsbl.allowlists(v.score())) {
            verdictLabel = "allowlisted";
            // an allowlisted client skips what is left of the wait
            waited = true;
        } else {
            verdictLabel = "pass";
        }
        settle();
    }

    /** {@code 521 5.7.1 Service unavailable; client [203.0.113.7] blocked using zen.example.test}. */
    String blockedReply(ClientReputation.Verdict v) {
        return "521 5.7.1 Service unavailable; client [" + client.getHostAddress() + "] blocked using "
                + String.join(", ", v.listedBy());
    }

    private void settle() {
        if (decided || !waited || !verdictIn || heldDrop != null) {
            return;
        }
        DnsblConfig dnsbl = edge.smtp.dnsbl().orElse(null);
        boolean blocked = verdict != null && dnsbl != null && dnsbl.blocks(verdict.score());
        if (blocked && lookupPending) {
            // a client the lists block may have passed elsewhere before: the cluster's memory decides, briefly
            return;
        }
        if (!blocked && (dnsbl == null || verdict != null && verdict.complete())) {
            // passed every test that ran, with every list answering: remembered
            edge.passed.add(client);
        }
        if (!blocked && dnsbl != null && dnsbl.onFailure() == DnsFailure.TEMPFAIL) {
            // fail closed: a list that did not answer might list the client; its recipients get a 451
            s.dnsUnanswered = verdict == null
                    ? "the DNS lists did not answer in time"
                    : verdict.complete() ? null : String.join(", ", verdict.unanswered()) + " did not answer";
        }
        decide(new Greet(blocked ? String.join(", ", verdict.listedBy()) : null));
    }

    private void decide(Outcome outcome) {
        if (decided) {
            return;
        }
        decided = true;
        cancelTimers();
        if (s.phase() != TransactionSession.Phase.GREETING) {
            return;
        }
        if (verdictLabel != null) {
            s.services().metrics().dnsblVerdict(s.listener(), verdictLabel);
        }
        if (outcome instanceof Drop drop) {
            log.info("{}: client {} refused: {}", s.session(), client.getHostAddress(), drop.reason());
            s.services().metrics().connectionRefused(s.listener(), drop.reason());
            s.drop(drop.reply(), CloseReason.LIMIT);
            return;
        }
        s.blockedBy = ((Greet) outcome).blockedBy();
        s.greeted();
    }

    private void cancelTimers() {
        if (waitTimer != null) {
            waitTimer.cancel(false);
        }
        if (verdictTimer != null) {
            verdictTimer.cancel(false);
        }
        if (lookupTimer != null) {
            lookupTimer.cancel(false);
        }
    }
}
