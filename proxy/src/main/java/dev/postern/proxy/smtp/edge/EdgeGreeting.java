package dev.postern.proxy.smtp.edge;

import dev.postern.config.DnsblConfig;
import dev.postern.config.SmtpConfig;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The relay's tests before the greeting is complete, run in parallel like postscreen's: the pregreet test (the first
 * line of a multi-line {@code 220-} greeting, a wait, and any byte from the client before the rest counts as talking
 * out of turn) and the DNS lists (queried at once, with a deadline). An allowlisting verdict ends the wait early; a
 * blocking one with action drop ends the connection at once. Runs on the session's event loop.
 */
final class EdgeGreeting {
    /** Margin over the lists' own deadline, after which the greeting goes on without them. */
    static final Duration VERDICT_MARGIN = Duration.ofMillis(500);

    /** What the tests decided; the session acts on it. */
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

    /** Where the outcome goes. */
    interface Listener {
        void decided(Outcome outcome);
    }

    private final Edge edge;
    private final InetAddress client;
    private final EventLoop loop;
    private final Listener listener;
    private final BooleanSupplier clientTalked;
    private boolean waited;
    private boolean verdictIn;
    private ClientReputation.Verdict verdict;
    private boolean decided;
    private ScheduledFuture<?> waitTimer;
    private ScheduledFuture<?> verdictTimer;
    private String verdictLabel;

    /**
     * @param clientTalked whether the client sent bytes that are not a complete line yet (checked when the wait ends;
     *     complete lines arrive through {@link #pregreet})
     */
    EdgeGreeting(Edge edge, InetAddress client, EventLoop loop, Listener listener, BooleanSupplier clientTalked) {
        this.edge = edge;
        this.client = client;
        this.loop = loop;
        this.listener = listener;
        this.clientTalked = clientTalked;
    }

    /** Whether a client must take the tests: not trusted, allowlisted or remembered, and some test is on. */
    static boolean needed(Edge edge, InetAddress client, boolean trusted) {
        if (client == null || trusted || edge.allowlisted(client) || edge.passed.contains(client)) {
            return false;
        }
        return edge.smtp.pregreet().isPresent() || edge.smtp.dnsbl().isPresent();
    }

    /**
     * Starts the tests; returns the first greeting line to send now ({@code 220-banner}), or null without pregreet.
     */
    String start() {
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
        return !decided && edge.smtp.pregreet().isPresent() && !waited;
    }

    /** The client talked before its turn. */
    void pregreet() {
        decide(new Drop(
                "521 5.5.1 " + edge.hostname + " Error: protocol error (talked before the greeting)", "pregreet"));
    }

    /** The session ended: stop the timers. */
    void cancel() {
        decided = true;
        cancelTimers();
    }

    private void waitOver() {
        if (decided) {
            return;
        }
        if (clientTalked.getAsBoolean()) {
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
                decide(new Drop(blockedReply(v), "dnsbl"));
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

    /** The lists' verdict for metrics: pass, blocked, allowlisted or timeout; null when no lists were asked. */
    String verdictLabel() {
        return verdictLabel;
    }

    /** {@code 521 5.7.1 Service unavailable; client [203.0.113.7] blocked using zen.example.test}. */
    String blockedReply(ClientReputation.Verdict v) {
        return "521 5.7.1 Service unavailable; client [" + client.getHostAddress() + "] blocked using "
                + String.join(", ", v.listedBy());
    }

    private void settle() {
        if (decided || !waited || !verdictIn) {
            return;
        }
        DnsblConfig dnsbl = edge.smtp.dnsbl().orElse(null);
        boolean blocked = verdict != null && dnsbl != null && dnsbl.blocks(verdict.score());
        if (!blocked && (dnsbl == null || verdict != null && verdict.complete())) {
            // passed every test that ran, with every list answering: remembered
            edge.passed.add(client);
        }
        decide(new Greet(blocked ? String.join(", ", verdict.listedBy()) : null));
    }

    private void decide(Outcome outcome) {
        if (decided) {
            return;
        }
        decided = true;
        cancelTimers();
        listener.decided(outcome);
    }

    private void cancelTimers() {
        if (waitTimer != null) {
            waitTimer.cancel(false);
        }
        if (verdictTimer != null) {
            verdictTimer.cancel(false);
        }
    }
}
