package dev.postern.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.DnsConfig;
import dev.postern.proxy.testing.TestDns;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.FakeTicker;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The resolver facade against a real DNS side (dnsmasq forwarding to rbldnsd) on loopback. */
class NettyDnsClientIT {
    private static final Duration TIMEOUT = Duration.ofMillis(400);

    private static Transport transport;
    private static TestDns dns;
    private NettyDnsClient client;

    @BeforeAll
    static void startDns() {
        dns = TestDns.get();
        transport = Transport.create(1, true);
    }

    @AfterAll
    static void stopLoops() {
        transport.close();
    }

    @AfterEach
    void closeClient() {
        if (client != null) {
            client.close();
        }
    }

    private NettyDnsClient client(DnsConfig config, Ticker ticker) {
        client = NettyDnsClient.create(config, transport.workerGroup().next(), transport, ticker);
        return client;
    }

    private NettyDnsClient uncached() {
        return client(dns.uncached(TIMEOUT), Ticker.systemTicker());
    }

    private static <T> DnsAnswer<T> await(CompletionStage<DnsAnswer<T>> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void answersAddressTextMailExchangerAndPointerRecords() throws Exception {
        NettyDnsClient c = uncached();

        assertThat(await(c.lookup("host.spf.test", DnsType.A)).values())
                .containsExactly(InetAddress.getByName("192.0.2.77"));
        assertThat(await(c.lookup("HOST.spf.test.", DnsType.AAAA)).values())
                .as("case and the trailing dot do not matter")
                .containsExactly(InetAddress.getByName("2001:db8::77"));
        assertThat(await(c.lookup("pass.spf.test", DnsType.TXT)).values())
                .containsExactly("v=spf1 ip4:192.0.2.0/24 -all");
        assertThat(await(c.lookup("mx.spf.test", DnsType.MX)).values())
                .containsExactlyInAnyOrder(
                        new MxRecord(10, "mx1.spf.test"),
                        new MxRecord(20, "mx2.spf.test"),
                        new MxRecord(30, "mx3.spf.test"));
        assertThat(await(c.lookup(DnsNames.ptrName(InetAddress.getByName("192.0.2.40")), DnsType.PTR))
                        .values())
                .containsExactly("mail.ptr.spf.test");
    }

    @Test
    void withoutServersTheSystemsAreAskedInTheirOrder() throws Exception {
        List<InetSocketAddress> expected = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/etc/resolv.conf"))) {
            String[] words = line.trim().split("\\s+");
            if (words.length >= 2 && words[0].equals("nameserver")) {
                expected.add(new InetSocketAddress(InetAddress.getByName(words[1]), 53));
            }
        }
        Assumptions.assumeFalse(expected.isEmpty(), "/etc/resolv.conf names no server");

        assertThat(client(DnsConfig.DEFAULTS, Ticker.systemTicker()).servers()).isEqualTo(expected);
    }

    @Test
    void theStringsOfATextRecordAreJoinedWithoutSpaces() throws Exception {
        assertThat(await(uncached().lookup("split.spf.test", DnsType.TXT)).values())
                .containsExactly("v=spf1 ip4:192.0.2.10 -all");
    }

    @Test
    void aCnameIsFollowedToTheRecordsOfItsTarget() throws Exception {
        DnsAnswer<String> answer = await(uncached().lookup("alias.spf.test", DnsType.TXT));

        assertThat(answer).isInstanceOf(DnsAnswer.Found.class);
        assertThat(answer.values()).containsExactly("v=spf1 ip4:192.0.2.0/24 -all");
    }

    @Test
    void aDnsListAnswersThroughTheOneResolverAddress() throws Exception {
        NettyDnsClient c = uncached();

        assertThat(await(c.lookup("99.2.0.192.zen.dnsbl.test", DnsType.A)).values())
                .containsExactly(InetAddress.getByName("127.0.0.2"));
        assertThat(await(c.lookup("1.2.0.192.zen.dnsbl.test", DnsType.A)))
                .isEqualTo(new DnsAnswer.NoRecords<>(true, 0));
    }

    @Test
    void aMissingNameAndAMissingTypeAreBothNoRecords() throws Exception {
        NettyDnsClient c = uncached();

        DnsAnswer<String> nxdomain = await(c.lookup("nothing-here.spf.test", DnsType.TXT));
        DnsAnswer<String> nodata = await(c.lookup("host.spf.test", DnsType.TXT));

        assertThat(nxdomain).isInstanceOf(DnsAnswer.NoRecords.class);
        assertThat(((DnsAnswer.NoRecords<String>) nxdomain).nxdomain()).isTrue();
        assertThat(nodata).isInstanceOf(DnsAnswer.NoRecords.class);
        assertThat(((DnsAnswer.NoRecords<String>) nodata).nxdomain()).isFalse();
    }

    @Test
    void aServerThatNeverAnswersIsATimeout() throws Exception {
        long start = System.nanoTime();

        DnsAnswer<InetAddress> answer = await(uncached().lookup("never.slow.test", DnsType.A));

        assertThat(answer).isEqualTo(new DnsAnswer.Failed<>("timeout"));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(TIMEOUT, TIMEOUT.multipliedBy(10));
    }

    @Test
    void aRefusedQueryIsAFailureNotAnAbsence() throws Exception {
        // dnsmasq refuses names outside the zones it knows
        assertThat(await(uncached().lookup("www.example.org", DnsType.A))).isEqualTo(new DnsAnswer.Failed<>("REFUSED"));
    }

    @Test
    void theNextServerIsAskedWhenOneDoesNotAnswer() throws Exception {
        NettyDnsClient c = client(
                new DnsConfig(List.of(dns.blackhole(), dns.server()), TIMEOUT, Duration.ZERO, Duration.ZERO),
                Ticker.systemTicker());

        assertThat(await(c.lookup("pass.spf.test", DnsType.TXT)).values())
                .containsExactly("v=spf1 ip4:192.0.2.0/24 -all");
    }

    @Test
    void namesThatCannotExistAreNoRecordsWithoutAQuery() throws Exception {
        NettyDnsClient c = uncached();
        String longLabel = "a".repeat(64) + ".spf.test";
        String longName = ("abcdefghi.").repeat(26) + "spf.test";

        for (String name :
                List.of("a..b.spf.test", longLabel, longName, "", ".", "caf\u00e9.spf.test", "a b.spf.test")) {
            assertThat(await(c.lookup(name, DnsType.A))).as(name).isEqualTo(new DnsAnswer.NoRecords<>(true, 0));
        }
        dns.syncLog();
        assertThat(dns.queries("A", longLabel)).isZero();
    }

    @Test
    void answersAreCachedForTheirTtl() throws Exception {
        FakeTicker ticker = new FakeTicker();
        NettyDnsClient c = client(dns.config(TIMEOUT, Duration.ZERO, Duration.ofDays(1)), ticker::read);
        String name = "acidr.spf.test";
        dns.syncLog();
        long before = dns.queries("TXT", name);

        await(c.lookup(name, DnsType.TXT));
        ticker.advance(Duration.ofSeconds(299));
        DnsAnswer<String> cached = await(c.lookup(name, DnsType.TXT));
        dns.syncLog();
        assertThat(dns.queries("TXT", name) - before)
                .as("within the TTL of 300s")
                .isEqualTo(1);
        assertThat(cached.values()).containsExactly("v=spf1 a:host.spf.test/24 -all");

        ticker.advance(Duration.ofSeconds(2));
        await(c.lookup(name, DnsType.TXT));
        dns.syncLog();
        assertThat(dns.queries("TXT", name) - before).as("after the TTL").isEqualTo(2);
    }

    @Test
    void theMaximumTtlShortensTheCache() throws Exception {
        FakeTicker ticker = new FakeTicker();
        NettyDnsClient c = client(dns.config(TIMEOUT, Duration.ZERO, Duration.ofSeconds(60)), ticker::read);
        String name = "adual.spf.test";
        dns.syncLog();
        long before = dns.queries("TXT", name);

        await(c.lookup(name, DnsType.TXT));
        ticker.advance(Duration.ofSeconds(61));
        await(c.lookup(name, DnsType.TXT));

        dns.syncLog();
        assertThat(dns.queries("TXT", name) - before).isEqualTo(2);
    }

    @Test
    void anAbsenceWithoutSoaIsCachedOnlyForTheMinimumTtl() throws Exception {
        FakeTicker ticker = new FakeTicker();
        NettyDnsClient c = client(dns.config(TIMEOUT, Duration.ofSeconds(30), Duration.ofDays(1)), ticker::read);
        String name = "absent-min-ttl.spf.test";

        await(c.lookup(name, DnsType.A));
        ticker.advance(Duration.ofSeconds(29));
        await(c.lookup(name, DnsType.A));
        dns.syncLog();
        assertThat(dns.queries("A", name)).isEqualTo(1);

        ticker.advance(Duration.ofSeconds(2));
        await(c.lookup(name, DnsType.A));
        dns.syncLog();
        assertThat(dns.queries("A", name)).isEqualTo(2);
    }

    @Test
    void failuresAreNotCached() throws Exception {
        NettyDnsClient c =
                client(dns.config(TIMEOUT, Duration.ofSeconds(30), Duration.ofDays(1)), new FakeTicker()::read);
        String name = "not-cached.slow.test";

        assertThat(await(c.lookup(name, DnsType.A))).isInstanceOf(DnsAnswer.Failed.class);
        assertThat(await(c.lookup(name, DnsType.A))).isInstanceOf(DnsAnswer.Failed.class);

        dns.syncLog();
        assertThat(dns.queries("A", name)).isEqualTo(2);
    }

    @Test
    void concurrentLookupsOfOneNameShareOneQuery() throws Exception {
        NettyDnsClient c = client(dns.config(TIMEOUT, Duration.ZERO, Duration.ofDays(1)), new FakeTicker()::read);
        String name = "mx11.spf.test";
        dns.syncLog();
        long before = dns.queries("MX", name);

        CompletionStage<DnsAnswer<MxRecord>> first = c.lookup(name, DnsType.MX);
        CompletionStage<DnsAnswer<MxRecord>> second = c.lookup(name, DnsType.MX);

        assertThat(await(first).values()).hasSize(11);
        assertThat(await(second).values()).hasSize(11);
        dns.syncLog();
        assertThat(dns.queries("MX", name) - before).isEqualTo(1);
    }
}
