package dev.postern.proxy.dns;

import dev.postern.config.SpfConfig;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SPF, RFC 7208: {@code check_host(ip, domain, sender)} for the MAIL FROM identity, or the HELO identity when MAIL
 * FROM is the null reverse path, evaluated asynchronously on a {@link DnsClient}.
 *
 * <p>Supported: the record lookup (exactly one {@code v=spf1} TXT record; several are a {@code permerror}), the
 * mechanisms {@code all include a mx ptr ip4 ip6 exists} with qualifiers and dual CIDR lengths, the {@code redirect=}
 * modifier, macros ({@link SpfMacro}), and the limits of section 4.6.4: at most 10 DNS-querying terms ({@code include
 * a mx ptr exists redirect}), at most 2 void lookups, at most 10 MX names per {@code mx} (else {@code permerror}), at
 * most 10 PTR names per {@code ptr} (the rest ignored), and an overall timeout ({@code temperror}). A DNS timeout or
 * server failure on any lookup (other than {@code ptr}'s, which only fails to match) is a {@code temperror}.
 *
 * <p>Left out: {@code exp=} is parsed but never fetched (explanations are for the rejecting server's reply text, and
 * the SMTP session writes its own); {@code %{p}} expands to {@code unknown}.
 */
public final class SpfEvaluator {
    /** RFC 7208 section 4.6.4. */
    static final int MAX_DNS_TERMS = 10;

    static final int MAX_VOID_LOOKUPS = 2;
    static final int MAX_MX_NAMES = 10;
    static final int MAX_PTR_NAMES = 10;

    private static final Logger log = LoggerFactory.getLogger(SpfEvaluator.class);

    private final DnsClient dns;
    private final Duration timeout;
    private final ScheduledExecutorService timer;

    /**
     * @param dns the resolver
     * @param timeout the longest one check may take; past it the result is {@code temperror}
     * @param timer runs the timeout (an event loop will do)
     */
    public SpfEvaluator(DnsClient dns, Duration timeout, ScheduledExecutorService timer) {
        this.dns = Objects.requireNonNull(dns, "dns");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.timer = Objects.requireNonNull(timer, "timer");
    }

    /** An evaluator with {@code config}'s timeout. */
    public SpfEvaluator(DnsClient dns, SpfConfig config, ScheduledExecutorService timer) {
        this(dns, config.timeout(), timer);
    }

    /**
     * Checks the sender of a message: the MAIL FROM domain, or the HELO name when {@code mailFrom} is empty (the null
     * reverse path {@code <>}). Never completes exceptionally.
     *
     * @param client the SMTP client's address
     * @param mailFrom the reverse path without its angle brackets; empty for {@code <>}
     * @param helo the HELO/EHLO argument
     */
    public CompletionStage<SpfResult> checkMailFrom(InetAddress client, String mailFrom, String helo) {
        if (mailFrom.isEmpty()) {
            return check(client, SpfResult.Identity.HELO, "postmaster@" + helo, helo, "", helo);
        }
        int at = mailFrom.lastIndexOf('@');
        String domain = at >= 0 ? mailFrom.substring(at + 1) : mailFrom;
        String sender = at > 0 ? mailFrom : "postmaster@" + domain;
        return check(client, SpfResult.Identity.MAILFROM, sender, domain, mailFrom, helo);
    }

    /** Checks the HELO identity alone (RFC 7208 section 2.3). */
    public CompletionStage<SpfResult> checkHelo(InetAddress client, String helo) {
        return check(client, SpfResult.Identity.HELO, "postmaster@" + helo, helo, "", helo);
    }

    private CompletionStage<SpfResult> check(
            InetAddress client,
            SpfResult.Identity identity,
            String sender,
            String domain,
            String mailFrom,
            String helo) {
        InetAddress ip = DnsNames.unmapped(client);
        SpfEvaluation evaluation = new SpfEvaluation(dns, ip, sender, helo);
        CompletableFuture<SpfResult> result = new CompletableFuture<>();
        ScheduledFuture<?> deadline = timer.schedule(
                () -> {
                    evaluation.abandoned = true;
                    result.complete(result(
                            new SpfEvaluation.Outcome(
                                    SpfVerdict.TEMPERROR, null, "no result within " + timeout.toMillis() + " ms"),
                            identity,
                            domain,
                            sender,
                            mailFrom,
                            helo,
                            ip));
                },
                timeout.toNanos(),
                TimeUnit.NANOSECONDS);
        evaluation.checkHost(domain).whenComplete((outcome, error) -> {
            deadline.cancel(false);
            SpfEvaluation.Outcome o = outcome != null
                    ? outcome
                    : new SpfEvaluation.Outcome(
                            SpfVerdict.TEMPERROR,
                            null,
                            "internal error: " + error.getClass().getSimpleName());
            if (error != null) {
                log.warn("SPF check of {} failed", domain, error);
            }
            result.complete(result(o, identity, domain, sender, mailFrom, helo, ip));
        });
        return result.minimalCompletionStage();
    }

    private static SpfResult result(
            SpfEvaluation.Outcome o,
            SpfResult.Identity identity,
            String domain,
            String sender,
            String mailFrom,
            String helo,
            InetAddress ip) {
        SpfResult r = new SpfResult(
                o.verdict(),
                identity,
                domain,
                sender,
                mailFrom,
                helo,
                ip,
                Optional.ofNullable(o.mechanism()),
                Optional.ofNullable(o.problem()));
        if (log.isDebugEnabled()) {
            log.debug(
                    "SPF {} {} for {} from {}: {}{}",
                    identity,
                    domain,
                    sender,
                    ip.getHostAddress(),
                    r.verdict().token(),
                    r.problem().map(p -> " (" + p + ")").orElse(""));
        }
        return r;
    }
}
