package dev.postern.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.DnsblConfig;
import dev.postern.config.DnsblReplyFilter;
import dev.postern.config.DnsblSite;
import dev.postern.proxy.testing.TestDns;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.FakeTicker;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** DNSBL/DNSWL scoring against rbldnsd behind dnsmasq (see {@link TestDns} for what the lists hold). */
class DnsblCheckerIT {
    private static final DnsblSite ZEN = site("zen.dnsbl.test", "127.0.0.[2..11]", 3);
    private static final DnsblSite BL = site("bl.dnsbl.test", null, 2);
    private static final DnsblSite WL = site("wl.dnsbl.test", "127.0.[0..255].[1..255]", -2);
    private static final DnsblSite SLOW = site("slow.dnsbl.test", null, 5);

    private static Transport transport;
    private static NettyDnsClient resolver;
    private final Counting dns = new Counting();

    /** Counts the names the checker asks for. */
    private static final class Counting implements DnsClient {
        final ConcurrentHashMap<String, AtomicInteger> asked = new ConcurrentHashMap<>();

        @Override
        public <T> CompletionStage<DnsAnswer<T>> lookup(String name, DnsType<T> type) {
            asked.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet();
            return resolver.lookup(name, type);
        }

        int total() {
            return asked.values().stream().mapToInt(AtomicInteger::get).sum();
        }
    }

    @BeforeAll
    static void start() {
        TestDns testDns = TestDns.get();
        transport = Transport.create(1, true);
        // no resolver cache: every check the checker does not cache reaches the lists
        resolver = NettyDnsClient.create(
                testDns.uncached(Duration.ofSeconds(2)),
                transport.workerGroup().next(),
                transport,
                Ticker.systemTicker());
    }

    @AfterAll
    static void stop() {
        resolver.close();
        transport.close();
    }

    private static DnsblSite site(String zone, String filter, int weight) {
        return new DnsblSite(zone, Optional.ofNullable(filter).map(DnsblReplyFilter::parse), weight);
    }

    private DnsblChecker checker(List<DnsblSite> sites, int threshold, int allowlist, Duration timeout, Duration ttl) {
        return checker(sites, threshold, allowlist, timeout, ttl, Ticker.systemTicker());
    }

    private DnsblChecker checker(
            List<DnsblSite> sites, int threshold, int allowlist, Duration timeout, Duration ttl, Ticker ticker) {
        return new DnsblChecker(
                dns,
                new DnsblConfig(sites, threshold, allowlist, timeout, ttl),
                ticker,
                transport.workerGroup().next());
    }

    private DnsblChecker standard() {
        return checker(List.of(ZEN, BL, WL), 3, -1, Duration.ofSeconds(2), Duration.ZERO);
    }

    private static DnsblResult check(DnsblChecker checker, String client) throws Exception {
        return checker.check(InetAddress.getByName(client))
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }

    @Test
    void theScoreIsTheSumOfTheWeightsOfTheListsThatListTheClient() throws Exception {
        DnsblResult result = check(standard(), "192.0.2.99");

        assertThat(result.score()).as("zen 3 + bl 2 + wl -2").isEqualTo(3);
        assertThat(result.matched()).containsExactly("zen.dnsbl.test", "bl.dnsbl.test", "wl.dnsbl.test");
        assertThat(result.timedOut()).isEmpty();
        assertThat(result.verdict()).isEqualTo(DnsblResult.Verdict.BLOCKED);
        assertThat(result.blocked()).isTrue();
    }

    @Test
    void aCleanClientScoresZero() throws Exception {
        DnsblResult result = check(standard(), "192.0.2.1");

        assertThat(result.score()).isZero();
        assertThat(result.matched()).isEmpty();
        assertThat(result.verdict()).isEqualTo(DnsblResult.Verdict.NEUTRAL);
        assertThat(dns.asked)
                .containsOnlyKeys("1.2.0.192.zen.dnsbl.test", "1.2.0.192.bl.dnsbl.test", "1.2.0.192.wl.dnsbl.test");
    }

    @Test
    void anAnswerOutsideTheFilterDoesNotCount() throws Exception {
        // zen lists 192.0.2.101 with 127.0.0.20, outside 127.0.0.[2..11]; bl lists it with 127.0.0.2
        DnsblResult result = check(standard(), "192.0.2.101");

        assertThat(result.score()).isEqualTo(2);
        assertThat(result.matched()).containsExactly("bl.dnsbl.test");
        assertThat(result.verdict()).isEqualTo(DnsblResult.Verdict.NEUTRAL);
    }

    @Test
    void aFilterKeepsAListsErrorAnswersFromCounting() throws Exception {
        DnsblChecker filtered = checker(
                List.of(site("err.dnsbl.test", "127.0.0.[2..11]", 5)), 1, 0, Duration.ofSeconds(2), Duration.ZERO);
        DnsblChecker unfiltered =
                checker(List.of(site("err.dnsbl.test", null, 5)), 1, 0, Duration.ofSeconds(2), Duration.ZERO);

        assertThat(check(filtered, "192.0.2.1").score()).isZero();
        assertThat(check(unfiltered, "192.0.2.1").score())
                .as("127.255.255.254 counts without a filter")
                .isEqualTo(5);
    }

    @Test
    void aNegativeScoreAllowlistsTheClient() throws Exception {
        DnsblResult result = check(standard(), "192.0.2.50");

        assertThat(result.score()).isEqualTo(-2);
        assertThat(result.matched()).containsExactly("wl.dnsbl.test");
        assertThat(result.verdict()).isEqualTo(DnsblResult.Verdict.ALLOWLISTED);
        assertThat(result.allowlisted()).isTrue();
    }

    @Test
    void withAllowlistingOffANegativeScoreIsNeutral() throws Exception {
        DnsblChecker checker = checker(List.of(ZEN, WL), 3, 0, Duration.ofSeconds(2), Duration.ZERO);

        assertThat(check(checker, "192.0.2.50").verdict()).isEqualTo(DnsblResult.Verdict.NEUTRAL);
    }

    @Test
    void aZoneConfiguredTwiceIsAskedOnceAndScoredByEachFilter() throws Exception {
        DnsblChecker checker = checker(
                List.of(site("zen.dnsbl.test", "127.0.0.2", 1), site("zen.dnsbl.test", "127.0.0.4", 5)),
                5,
                0,
                Duration.ofSeconds(2),
                Duration.ZERO);

        assertThat(check(checker, "192.0.2.99").score()).isEqualTo(1);
        assertThat(check(checker, "192.0.2.100").score()).isEqualTo(5);
        assertThat(check(checker, "192.0.2.100").matched()).containsExactly("zen.dnsbl.test");
        assertThat(dns.total()).as("one query per check").isEqualTo(3);
    }

    @Test
    void aListThatTimesOutCountsZeroAndTheOthersStillCount() throws Exception {
        Duration timeout = Duration.ofMillis(300);
        DnsblChecker checker = checker(List.of(ZEN, SLOW, BL), 3, 0, timeout, Duration.ZERO);
        long start = System.nanoTime();

        DnsblResult result = check(checker, "192.0.2.99");

        assertThat(result.score()).isEqualTo(5);
        assertThat(result.matched()).containsExactly("zen.dnsbl.test", "bl.dnsbl.test");
        assertThat(result.timedOut()).containsExactly("slow.dnsbl.test");
        assertThat(result.verdict()).isEqualTo(DnsblResult.Verdict.BLOCKED);
        assertThat(result.elapsed()).isGreaterThanOrEqualTo(timeout).isLessThan(Duration.ofSeconds(2));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void anIpv6ClientIsAskedForWithItsNibblesReversed() throws Exception {
        DnsblResult result = check(standard(), "2001:db8::99");

        assertThat(result.score()).isEqualTo(3);
        assertThat(result.matched()).containsExactly("zen.dnsbl.test");
        assertThat(dns.asked)
                .containsKey("9.9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.dnsbl.test");
    }

    @Test
    void anIpv4MappedClientIsCheckedAsIpv4() throws Exception {
        DnsblResult result = check(standard(), "::ffff:192.0.2.99");

        assertThat(result.score()).isEqualTo(3);
        assertThat(dns.asked).containsKey("99.2.0.192.zen.dnsbl.test");
    }

    @Test
    void aResultIsCachedForItsTtlPerClient() throws Exception {
        FakeTicker ticker = new FakeTicker();
        DnsblChecker checker =
                checker(List.of(ZEN, BL), 3, 0, Duration.ofSeconds(2), Duration.ofMinutes(10), ticker::read);

        DnsblResult first = check(checker, "192.0.2.99");
        ticker.advance(Duration.ofMinutes(9));
        DnsblResult second = check(checker, "192.0.2.99");
        assertThat(dns.total()).as("the second check is a cache hit").isEqualTo(2);
        assertThat(second).isEqualTo(first);

        check(checker, "192.0.2.100");
        assertThat(dns.total()).as("another client is asked for").isEqualTo(4);

        ticker.advance(Duration.ofMinutes(2));
        assertThat(check(checker, "192.0.2.99").score()).isEqualTo(5);
        assertThat(dns.total()).as("expired after 10 minutes").isEqualTo(6);
    }

    @Test
    void aResultWithAnUnansweredListIsNotCached() throws Exception {
        DnsblChecker checker = checker(
                List.of(ZEN, SLOW), 3, 0, Duration.ofMillis(200), Duration.ofMinutes(10), new FakeTicker()::read);

        check(checker, "192.0.2.99");
        DnsblResult again = check(checker, "192.0.2.99");

        assertThat(again.timedOut()).containsExactly("slow.dnsbl.test");
        assertThat(dns.total()).isEqualTo(4);
    }

    @Test
    void concurrentChecksOfOneClientShareTheirQueries() throws Exception {
        DnsblChecker checker = checker(List.of(ZEN, BL), 3, 0, Duration.ofSeconds(2), Duration.ofMinutes(10));
        InetAddress client = InetAddress.getByName("192.0.2.100");

        CompletionStage<DnsblResult> a = checker.check(client);
        CompletionStage<DnsblResult> b = checker.check(client);

        assertThat(a.toCompletableFuture().get(10, TimeUnit.SECONDS).score()).isEqualTo(3);
        assertThat(b.toCompletableFuture().get(10, TimeUnit.SECONDS).score()).isEqualTo(3);
        assertThat(dns.total()).isEqualTo(2);
    }
}
