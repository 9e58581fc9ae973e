package dev.postern.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.proxy.testing.TestDns;
import dev.postern.proxy.transport.Transport;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RFC 7208 check_host() against the SPF test world that dnsmasq serves ({@code src/test/resources/dns/spf.test.conf}
 * holds every record these cases read).
 */
class SpfEvaluatorIT {
    private static final Duration DNS_TIMEOUT = Duration.ofMillis(500);

    private static Transport transport;
    private static NettyDnsClient resolver;
    private static SpfEvaluator spf;

    @BeforeAll
    static void start() {
        TestDns dns = TestDns.get();
        transport = Transport.create(1, true);
        resolver = NettyDnsClient.create(
                dns.config(DNS_TIMEOUT, Duration.ZERO, Duration.ofMinutes(5)),
                transport.workerGroup().next(),
                transport,
                Ticker.systemTicker());
        spf = new SpfEvaluator(
                resolver, Duration.ofSeconds(10), transport.workerGroup().next());
    }

    @AfterAll
    static void stop() {
        resolver.close();
        transport.close();
    }

    private static SpfResult check(SpfEvaluator evaluator, String mailFrom, String client, String helo)
            throws Exception {
        return evaluator
                .checkMailFrom(InetAddress.getByName(client), mailFrom, helo)
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
    }

    /** {@code detail}: the deciding mechanism for a match, a part of the problem for an error, or empty. */
    @ParameterizedTest(name = "{0} from {1}: {3} {4}")
    @CsvSource(
            delimiter = '|',
            nullValues = "-",
            textBlock =
                    """
                    # results
                    x@pass.spf.test              | 192.0.2.10     | mx.sender.example | PASS      | ip4:192.0.2.0/24
                    x@pass.spf.test              | 198.51.100.5   | mx.sender.example | FAIL      | -all
                    x@softfail.spf.test          | 192.0.2.10     | mx.sender.example | SOFTFAIL  | ~all
                    x@softfail.spf.test          | 198.51.100.5   | mx.sender.example | PASS      | ip4:198.51.100.0/24
                    x@neutral.spf.test           | 192.0.2.10     | mx.sender.example | NEUTRAL   | ?all
                    x@default.spf.test           | 192.0.2.10     | mx.sender.example | NEUTRAL   | default
                    x@plus.spf.test              | 192.0.2.10     | mx.sender.example | PASS      | +ip4:192.0.2.10
                    x@plus.spf.test              | 192.0.2.11     | mx.sender.example | FAIL      | -ip4:192.0.2.0/24
                    x@plus.spf.test              | 203.0.113.1    | mx.sender.example | NEUTRAL   | ?all
                    x@UPPER.spf.test             | 192.0.2.10     | mx.sender.example | PASS      | IP4:192.0.2.0/24
                    x@mixed.spf.test             | 192.0.2.10     | mx.sender.example | PASS      | ip4:192.0.2.10
                    x@split.spf.test             | 192.0.2.10     | mx.sender.example | PASS      | ip4:192.0.2.10
                    x@split.spf.test             | 192.0.2.11     | mx.sender.example | FAIL      | -all
                    x@alias.spf.test             | 192.0.2.10     | mx.sender.example | PASS      | ip4:192.0.2.0/24
                    # none
                    x@nospf.spf.test             | 192.0.2.10     | mx.sender.example | NONE      | -
                    x@nothing-here.spf.test      | 192.0.2.10     | mx.sender.example | NONE      | -
                    x@host.spf.test              | 192.0.2.10     | mx.sender.example | NONE      | -
                    x@localhost                  | 192.0.2.10     | mx.sender.example | NONE      | is not a domain name
                    x@bad..spf.test              | 192.0.2.10     | mx.sender.example | NONE      | is not a domain name
                    # broken records
                    x@two.spf.test               | 192.0.2.10     | mx.sender.example | PERMERROR | has 2 SPF records
                    x@syntax.spf.test            | 192.0.2.10     | mx.sender.example | PERMERROR | '192.0.2.300' is not an IPv4 address
                    x@unknownmech.spf.test       | 192.0.2.10     | mx.sender.example | PERMERROR | unknown mechanism 'frobnicate'
                    x@unknownmod.spf.test        | 192.0.2.10     | mx.sender.example | PASS      | ip4:192.0.2.10
                    x@badmacro.spf.test          | 192.0.2.10     | mx.sender.example | PERMERROR | 'x' is not a macro letter
                    # ip6
                    x@ip6.spf.test               | 2001:db8::10   | mx.sender.example | PASS      | ip6:2001:db8::/64
                    x@ip6.spf.test               | 2001:db8:1::10 | mx.sender.example | FAIL      | -all
                    x@ip6.spf.test               | 192.0.2.10     | mx.sender.example | FAIL      | -all
                    # a, with CIDR lengths
                    x@a.spf.test                 | 192.0.2.10     | mx.sender.example | PASS      | a
                    x@a.spf.test                 | 2001:db8::10   | mx.sender.example | PASS      | a
                    x@a.spf.test                 | 192.0.2.11     | mx.sender.example | FAIL      | -all
                    x@acidr.spf.test             | 192.0.2.10     | mx.sender.example | PASS      | a:host.spf.test/24
                    x@acidr.spf.test             | 192.0.3.10     | mx.sender.example | FAIL      | -all
                    x@adual.spf.test             | 2001:db8::10   | mx.sender.example | PASS      | a:host.spf.test/32//64
                    x@adual.spf.test             | 2001:db8:1::77 | mx.sender.example | FAIL      | -all
                    x@adual.spf.test             | 192.0.2.10     | mx.sender.example | FAIL      | -all
                    x@adual.spf.test             | 192.0.2.77     | mx.sender.example | PASS      | a:host.spf.test/32//64
                    # mx with several hosts, one MX too many
                    x@mx.spf.test                | 192.0.2.10     | mx.sender.example | PASS      | mx
                    x@mx.spf.test                | 198.51.100.22  | mx.sender.example | PASS      | mx
                    x@mx.spf.test                | 198.51.100.23  | mx.sender.example | FAIL      | -all
                    x@mxcidr.spf.test            | 198.51.100.99  | mx.sender.example | PASS      | mx:mx.spf.test/24
                    x@mx11.spf.test              | 192.0.2.10     | mx.sender.example | PERMERROR | has 11 MX records
                    # include chains
                    x@include.spf.test           | 192.0.2.10     | mx.sender.example | PASS      | include:pass.spf.test
                    x@include.spf.test           | 198.51.100.5   | mx.sender.example | FAIL      | -all
                    x@chain.spf.test             | 192.0.2.10     | mx.sender.example | PASS      | include:include.spf.test
                    x@chain.spf.test             | 198.51.100.5   | mx.sender.example | SOFTFAIL  | ~all
                    x@includesoft.spf.test       | 192.0.2.10     | mx.sender.example | NEUTRAL   | ?all
                    x@includenone.spf.test       | 192.0.2.10     | mx.sender.example | PERMERROR | include:nospf.spf.test has no SPF record
                    x@includeperm.spf.test       | 192.0.2.10     | mx.sender.example | PERMERROR | '192.0.2.300' is not an IPv4 address
                    x@loop.spf.test              | 192.0.2.10     | mx.sender.example | PERMERROR | more than 10 DNS-querying terms
                    # redirect
                    x@redirect.spf.test          | 192.0.2.10     | mx.sender.example | PASS      | ip4:192.0.2.0/24
                    x@redirect.spf.test          | 198.51.100.5   | mx.sender.example | FAIL      | -all
                    x@redirectall.spf.test       | 198.51.100.5   | mx.sender.example | NEUTRAL   | ?all
                    x@redirectnone.spf.test      | 192.0.2.10     | mx.sender.example | PERMERROR | redirect=nospf.spf.test has no SPF record
                    x@redirectmacro.spf.test     | 192.0.2.10     | mx.sender.example | PASS      | ip4:192.0.2.10
                    x@redirectmacro.spf.test     | 198.51.100.5   | mx.sender.example | FAIL      | -all
                    # macros with exists
                    alice@macro.spf.test         | 192.0.2.10     | mx.sender.example | PASS      | exists:%{l}.%{ir}.users.%{d}
                    bob@macro.spf.test           | 192.0.2.10     | mx.sender.example | FAIL      | -all
                    alice@macro.spf.test         | 192.0.2.11     | mx.sender.example | FAIL      | -all
                    x@macro6.spf.test            | 2001:db8::10   | mx.sender.example | PASS      | exists:%{ir}.%{v}._spf.%{d}
                    x@macro6.spf.test            | 2001:db8::11   | mx.sender.example | FAIL      | -all
                    mail-alice-x@macrodelim.spf.test | 192.0.2.10 | mx.sender.example | PASS      | exists:%{l2r-}.%{o}.users.spf.test
                    alice@macrodelim.spf.test    | 192.0.2.10     | mx.sender.example | FAIL      | -all
                    x@macrohelo.spf.test         | 192.0.2.10     | mx.sender.example | PASS      | exists:%{h}.helos.spf.test
                    x@macrohelo.spf.test         | 192.0.2.10     | other.example     | FAIL      | -all
                    # at most 10 DNS-querying terms, across includes
                    x@ten.spf.test               | 192.0.2.10     | mx.sender.example | PASS      | ip4:192.0.2.10
                    x@eleven.spf.test            | 192.0.2.10     | mx.sender.example | PERMERROR | more than 10 DNS-querying terms (at a:host.spf.test in eleven.spf.test)
                    x@nested.spf.test            | 192.0.2.10     | mx.sender.example | PERMERROR | more than 10 DNS-querying terms (at a:host.spf.test in five.spf.test)
                    x@manyip4.spf.test           | 192.0.2.10     | mx.sender.example | PASS      | ip4:192.0.2.10
                    # at most 2 void lookups
                    x@void2.spf.test             | 192.0.2.10     | mx.sender.example | PASS      | ip4:192.0.2.10
                    x@void3.spf.test             | 192.0.2.10     | mx.sender.example | PERMERROR | more than 2 void lookups (at mx:nx3.spf.test
                    # a DNS timeout is a temperror; a match before the slow lookup never waits for it
                    x@temp.spf.test              | 192.0.2.10     | mx.sender.example | TEMPERROR | DNS timeout looking up TXT of never.slow.test
                    x@tempafter.spf.test         | 192.0.2.10     | mx.sender.example | PASS      | ip4:192.0.2.10
                    # ptr: names that resolve back to the client, at or below the domain
                    x@ptr.spf.test               | 192.0.2.40     | mx.sender.example | PASS      | ptr
                    x@ptr.spf.test               | 192.0.2.41     | mx.sender.example | FAIL      | -all
                    x@ptr.spf.test               | 192.0.2.42     | mx.sender.example | FAIL      | -all
                    """)
    void checkHostFollowsRfc7208(String mailFrom, String client, String helo, SpfVerdict verdict, String detail)
            throws Exception {
        SpfResult result = check(spf, mailFrom, client, helo);

        assertThat(result.verdict()).as("%s", result).isEqualTo(verdict);
        if (verdict == SpfVerdict.PERMERROR || verdict == SpfVerdict.TEMPERROR || verdict == SpfVerdict.NONE) {
            if (detail != null) {
                assertThat(result.problem()).as("%s", result).hasValueSatisfying(p -> assertThat(p)
                        .contains(detail));
            }
        } else {
            assertThat(result.mechanism()).as("%s", result).contains(detail);
        }
        assertThat(result.identity()).isEqualTo(SpfResult.Identity.MAILFROM);
        assertThat(result.sender()).isEqualTo(mailFrom);
    }

    @Test
    void theNullSenderIsCheckedAsPostmasterOfTheHeloName() throws Exception {
        SpfResult result = check(spf, "", "192.0.2.10", "pass.spf.test");

        assertThat(result.verdict()).isEqualTo(SpfVerdict.PASS);
        assertThat(result.identity()).isEqualTo(SpfResult.Identity.HELO);
        assertThat(result.sender()).isEqualTo("postmaster@pass.spf.test");
        assertThat(result.domain()).isEqualTo("pass.spf.test");
        assertThat(result.receivedSpf("postern"))
                .isEqualTo("Received-SPF: pass (postern: domain of postmaster@pass.spf.test designates 192.0.2.10 as"
                        + " permitted sender) client-ip=192.0.2.10; envelope-from=\"\"; helo=pass.spf.test;"
                        + " identity=helo;");
    }

    @Test
    void theHeloIdentityCanBeCheckedOnItsOwn() throws Exception {
        SpfResult result = spf.checkHelo(InetAddress.getByName("198.51.100.5"), "pass.spf.test")
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS);

        assertThat(result.verdict()).isEqualTo(SpfVerdict.FAIL);
        assertThat(result.identity()).isEqualTo(SpfResult.Identity.HELO);
    }

    @Test
    void anIpv4MappedClientIsCheckedAsIpv4() throws Exception {
        SpfResult result = check(spf, "x@pass.spf.test", "::ffff:192.0.2.10", "mx.sender.example");

        assertThat(result.verdict()).isEqualTo(SpfVerdict.PASS);
        assertThat(result.clientIp()).isEqualTo(InetAddress.getByName("192.0.2.10"));
    }

    @Test
    void aMailFromResultMakesItsHeader() throws Exception {
        SpfResult result = check(spf, "x@pass.spf.test", "192.0.2.10", "mx.sender.example");

        assertThat(result.receivedSpf("postern"))
                .isEqualTo("Received-SPF: pass (postern: domain of x@pass.spf.test designates 192.0.2.10 as permitted"
                        + " sender) client-ip=192.0.2.10; envelope-from=\"x@pass.spf.test\"; helo=mx.sender.example;");
    }

    @Test
    void theWholeCheckHasATimeout() throws Exception {
        SpfEvaluator impatient = new SpfEvaluator(
                resolver, Duration.ofMillis(150), transport.workerGroup().next());
        long start = System.nanoTime();

        SpfResult result = check(impatient, "x@temp.spf.test", "192.0.2.10", "mx.sender.example");

        assertThat(result.verdict()).isEqualTo(SpfVerdict.TEMPERROR);
        assertThat(result.problem()).contains("no result within 150 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(DNS_TIMEOUT);
    }
}
