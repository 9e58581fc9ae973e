package dev.postern.proxy.dns;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.DnsblConfig;
import dev.postern.config.DnsblSite;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores a client against DNS block and allow lists, like Postfix's postscreen: every list is asked at once for the
 * client's reversed address ({@code 1.2.0.192.zen.example.test}; nibbles for IPv6), and each list whose answer matches
 * its reply filter adds its weight. A list that has not answered when the timeout passes counts 0 and is reported.
 * A zone configured twice (with different filters and weights) is asked once.
 *
 * <p>Results are cached per client address for the configured TTL (a result with an unanswered list is not, so the
 * next connection asks again); concurrent checks of one address share one set of queries.
 */
public final class DnsblChecker {
    /** Cached client results at most. */
    static final int MAX_CACHED_CLIENTS = 100_000;

    private static final Logger log = LoggerFactory.getLogger(DnsblChecker.class);

    private final DnsClient dns;
    private final DnsblConfig config;
    private final List<String> zones;
    private final int[] zoneOfSite;
    private final Ticker ticker;
    private final ScheduledExecutorService timer;
    private final TtlCache<InetAddress, DnsblResult> cache;

    /**
     * @param dns the resolver
     * @param config the lists, thresholds, timeout and cache TTL
     * @param ticker the clock of the cache and of {@link DnsblResult#elapsed()}
     * @param timer runs the timeout (an event loop will do)
     */
    public DnsblChecker(DnsClient dns, DnsblConfig config, Ticker ticker, ScheduledExecutorService timer) {
        this.dns = Objects.requireNonNull(dns, "dns");
        this.config = Objects.requireNonNull(config, "config");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.timer = Objects.requireNonNull(timer, "timer");
        Set<String> distinct = new LinkedHashSet<>();
        config.sites().forEach(s -> distinct.add(s.zone()));
        this.zones = List.copyOf(distinct);
        this.zoneOfSite =
                config.sites().stream().mapToInt(s -> zones.indexOf(s.zone())).toArray();
        long ttl = config.cacheTtl().toNanos();
        this.cache = ttl == 0
                ? null
                : new TtlCache<>(
                        ticker, MAX_CACHED_CLIENTS, result -> result.timedOut().isEmpty() ? ttl : 0);
    }

    /** The lists' verdict on {@code client}; never completes exceptionally. */
    public CompletionStage<DnsblResult> check(InetAddress client) {
        InetAddress address = DnsNames.unmapped(client);
        if (cache == null) {
            return ask(address);
        }
        return cache.get(address, this::ask);
    }

    private CompletableFuture<DnsblResult> ask(InetAddress client) {
        long start = ticker.read();
        String reversed = DnsNames.reversed(client);
        int n = zones.size();
        AtomicReferenceArray<DnsAnswer<InetAddress>> answers = new AtomicReferenceArray<>(n);
        AtomicInteger pending = new AtomicInteger(n);
        CompletableFuture<DnsblResult> result = new CompletableFuture<>();
        ScheduledFuture<?> deadline = timer.schedule(
                () -> finish(client, answers, start, result), config.timeout().toNanos(), TimeUnit.NANOSECONDS);
        result.whenComplete((r, e) -> deadline.cancel(false));
        for (int i = 0; i < n; i++) {
            int index = i;
            dns.lookup(reversed + "." + zones.get(i), DnsType.A).whenComplete((answer, error) -> {
                answers.set(index, answer != null ? answer : new DnsAnswer.Failed<>(String.valueOf(error)));
                if (pending.decrementAndGet() == 0) {
                    finish(client, answers, start, result);
                }
            });
        }
        return result;
    }

    private void finish(
            InetAddress client,
            AtomicReferenceArray<DnsAnswer<InetAddress>> answers,
            long start,
            CompletableFuture<DnsblResult> result) {
        if (result.isDone()) {
            return;
        }
        int score = 0;
        Set<String> matched = new LinkedHashSet<>();
        List<String> timedOut = new ArrayList<>();
        for (int z = 0; z < zones.size(); z++) {
            DnsAnswer<InetAddress> answer = answers.get(z);
            if (answer == null || answer instanceof DnsAnswer.Failed) {
                timedOut.add(zones.get(z));
            }
        }
        List<DnsblSite> sites = config.sites();
        for (int s = 0; s < sites.size(); s++) {
            DnsAnswer<InetAddress> answer = answers.get(zoneOfSite[s]);
            if (answer == null) {
                continue;
            }
            DnsblSite site = sites.get(s);
            for (InetAddress address : answer.values()) {
                if (site.matches(address.getAddress())) {
                    score += site.weight();
                    matched.add(site.zone());
                    break;
                }
            }
        }
        DnsblResult.Verdict verdict = config.blocks(score)
                ? DnsblResult.Verdict.BLOCKED
                : config.allowlists(score) ? DnsblResult.Verdict.ALLOWLISTED : DnsblResult.Verdict.NEUTRAL;
        DnsblResult r = new DnsblResult(
                score, verdict, List.copyOf(matched), timedOut, Duration.ofNanos(ticker.read() - start));
        if (result.complete(r) && log.isDebugEnabled()) {
            log.debug(
                    "DNSBL {}: score {} ({}), listed by {}, unanswered {}, {} ms",
                    client.getHostAddress(),
                    r.score(),
                    r.verdict(),
                    r.matched(),
                    r.timedOut(),
                    r.elapsed().toMillis());
        }
    }
}
