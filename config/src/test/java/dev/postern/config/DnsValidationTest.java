package dev.postern.config;

import static dev.postern.config.ConfigTexts.MINIMAL;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The top-level {@code dns} section, and the SMTP edge's {@code dnsbl} and {@code spf} sections. */
class DnsValidationTest {

    // --- dns

    @Test
    void withoutADnsSectionTheSystemResolverIsUsed() throws ConfigException {
        DnsConfig dns = parse(MINIMAL).dns();

        assertThat(dns).isEqualTo(DnsConfig.DEFAULTS);
        assertThat(dns.systemServers()).isTrue();
        assertThat(dns.timeout()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void readsServersWithAndWithoutPorts() throws ConfigException {
        DnsConfig dns = parse(
                        MINIMAL
                                + """
                        dns:
                          servers: [127.0.0.1:5353, 192.0.2.53, "::1", "[2001:db8::53]:5300"]
                          timeout: 500ms
                          cache-min-ttl: 30s
                          cache-max-ttl: 1h
                        """)
                .dns();

        assertThat(dns.servers())
                .containsExactly(
                        new HostPort("127.0.0.1", 5353),
                        new HostPort("192.0.2.53", 53),
                        new HostPort("::1", 53),
                        new HostPort("2001:db8::53", 5300));
        assertThat(dns.timeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(dns.cacheMinTtl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(dns.cacheMaxTtl()).isEqualTo(Duration.ofHours(1));
        assertThat(dns.systemServers()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '"',
            textBlock =
                    """
                    servers: [ns.example.test]           | dns.servers[0]: 'ns.example.test' is not an IP address (a name server is given by its address: finding it by name would need DNS)
                    servers: [ns.example.test:53]        | dns.servers[0]: 'ns.example.test' is not an IP address (a name server is given by its address: finding it by name would need DNS)
                    servers: [127.0.0.1:0]               | dns.servers[0]: 0 is not a port (1-65535)
                    servers: [127.0.0.256]               | dns.servers[0]: '127.0.0.256' is not an IP address (a name server is given by its address: finding it by name would need DNS)
                    servers: ["1:2:3"]                   | dns.servers[0]: '1:2:3' is not an IP address (a name server is given by its address: finding it by name would need DNS)
                    servers: [127.0.0.1, 127.0.0.1:53]   | dns.servers[1]: '127.0.0.1:53' is already listed at dns.servers[0]
                    servers: []                          | dns.servers: is empty (name server addresses such as 127.0.0.1 or 127.0.0.1:5353; leave servers out to use the system's)
                    servers: 127.0.0.1                   | dns.servers: '127.0.0.1' is not a list
                    timeout: 0s                          | dns.timeout: 0s must be > 0
                    cache-max-ttl: 2d                    | ""
                    cache-min-ttl: 2d                    | dns.cache-min-ttl: 2d must be <= cache-max-ttl (1d)
                    server: [127.0.0.1]                  | dns.server: unknown key (did you mean 'servers'?)
                    """)
    void badDnsSettingsAreNamed(String line, String problem) {
        String yaml = MINIMAL + "dns:\n  " + line + "\n";
        if (problem.isEmpty()) {
            // a control row: this value alone is fine
            assertThat(parseQuietly(yaml)).isTrue();
            return;
        }
        assertThat(problems(yaml)).containsExactly(problem);
    }

    @Test
    void aZeroMaximumTtlTurnsTheCacheOff() throws ConfigException {
        assertThat(parse(MINIMAL + "dns:\n  cache-max-ttl: 0s\n").dns().cacheMaxTtl())
                .isZero();
    }

    @Test
    void aMaximumTtlBelowTheMinimumIsReportedWhereItIsSet() {
        assertThat(problems(MINIMAL + "dns:\n  cache-min-ttl: 1h\n  cache-max-ttl: 30m\n"))
                .containsExactly("dns.cache-max-ttl: 30m must be >= cache-min-ttl (1h)");
    }

    private static boolean parseQuietly(String yaml) {
        try {
            parse(yaml);
            return true;
        } catch (ConfigException e) {
            throw new AssertionError(e.problems().toString());
        }
    }

    // --- dnsbl (read through the fragment hook: a listener will carry it)

    private static DnsblConfig dnsbl(String yaml) throws ConfigException {
        return ConfigLoader.readFragment(yaml, root -> DnsReader.dnsbl(root.get("dnsbl")));
    }

    private static List<String> fragmentProblems(String yaml, Function<Node, ?> reader) {
        ConfigException[] thrown = new ConfigException[1];
        assertThatThrownBy(() -> ConfigLoader.readFragment(yaml, reader))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> thrown[0] = (ConfigException) e);
        return thrown[0].problems().stream().map(ConfigProblem::toString).toList();
    }

    private static List<String> dnsblProblems(String yaml) {
        return fragmentProblems(yaml, root -> DnsReader.dnsbl(root.get("dnsbl")));
    }

    @Test
    void readsSitesInPostscreenSyntax() throws ConfigException {
        DnsblConfig config = dnsbl(
                """
                dnsbl:
                  sites:
                    - zen.example.test=127.0.0.[2..11]*3
                    - bl.example.test*2
                    - wl.example.test=127.0.[0..255].[1..255]*-2
                    - Plain.Example.Test.
                  threshold: 3
                  allowlist-threshold: -1
                  timeout: 1500ms
                  cache-ttl: 10m
                """);

        assertThat(config.sites())
                .extracting(DnsblSite::toString)
                .containsExactly(
                        "zen.example.test=127.0.0.[2..11]*3",
                        "bl.example.test*2",
                        "wl.example.test=127.0.[0..255].[1..255]*-2",
                        "plain.example.test");
        assertThat(config.sites().get(0))
                .isEqualTo(
                        new DnsblSite("zen.example.test", Optional.of(DnsblReplyFilter.parse("127.0.0.[2..11]")), 3));
        assertThat(config.sites().get(3).filter()).isEmpty();
        assertThat(config.sites().get(3).weight()).isEqualTo(1);
        assertThat(config.threshold()).isEqualTo(3);
        assertThat(config.allowlistThreshold()).isEqualTo(-1);
        assertThat(config.timeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(config.cacheTtl()).isEqualTo(Duration.ofMinutes(10));
        assertThat(config.blocks(3)).isTrue();
        assertThat(config.blocks(2)).isFalse();
        assertThat(config.allowlists(-1)).isTrue();
        assertThat(config.allowlists(0)).isFalse();
    }

    @Test
    void onlySitesAreRequired() throws ConfigException {
        DnsblConfig config = dnsbl("dnsbl:\n  sites: [bl.example.test]\n");

        assertThat(config.threshold()).isEqualTo(1);
        assertThat(config.allowlistThreshold()).as("allowlisting off").isZero();
        assertThat(config.allowlists(-100)).isFalse();
        assertThat(config.timeout()).isEqualTo(DnsblConfig.DEFAULT_TIMEOUT);
        assertThat(config.cacheTtl()).isEqualTo(DnsblConfig.DEFAULT_CACHE_TTL);
    }

    @Test
    void anUnfilteredSiteCountsAnyIpv4Answer() throws ConfigException {
        DnsblSite site = dnsbl("dnsbl:\n  sites: [bl.example.test]\n").sites().get(0);

        assertThat(site.matches(new byte[] {127, 0, 0, 2})).isTrue();
        assertThat(site.matches(new byte[] {127, (byte) 255, (byte) 255, (byte) 254}))
                .isTrue();
        assertThat(site.matches(new byte[16])).isFalse();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '"',
            textBlock =
                    """
                    zen.example.test=127.0.0.[2..300]       | dnsbl.sites[1]: '127.0.0.[2..300]' is not a reply filter (octet 4: 300 is more than 255)
                    zen.example.test=127.0.0.2*x            | dnsbl.sites[1]: '*x' is not a weight (a whole number such as *3, or *-2 for an allow list)
                    zen.example.test*0                      | dnsbl.sites[1]: weight 0 has no effect (a positive weight for a block list, a negative one for an allow list)
                    zen.example.test*20000                  | dnsbl.sites[1]: weight 20000 must be between -10000 and 10000
                    zen..example.test                       | dnsbl.sites[1]: 'zen..example.test' is not a DNS zone (labels of letters, digits, '-' and '_', separated by dots)
                    zen example.test                        | dnsbl.sites[1]: 'zen example.test' is not a DNS zone (labels of letters, digits, '-' and '_', separated by dots)
                    localhost                               | dnsbl.sites[1]: 'localhost' is not a DNS list's zone (it has one label; lists are zones such as zen.example.test)
                    ""                                      | dnsbl.sites[1]: is empty (a DNS list such as zen.example.test=127.0.0.[2..11]*3)
                    ok.example.test                         | dnsbl.sites[1]: 'ok.example.test' is already listed at dnsbl.sites[0]
                    """)
    void badSitesAreNamedWithTheirIndex(String site, String problem) {
        String yaml = "dnsbl:\n  sites:\n    - ok.example.test\n    - \"" + site + "\"\n";

        assertThat(dnsblProblems(yaml)).containsExactly(problem);
    }

    @Test
    void theSameZoneWithDifferentFiltersIsTwoSites() throws ConfigException {
        DnsblConfig config = dnsbl(
                "dnsbl:\n  sites:\n    - zen.example.test=127.0.0.[2..3]*3\n    - zen.example.test=127.0.0.[10..11]\n");

        assertThat(config.sites()).hasSize(2);
    }

    @Test
    void aZoneTooLongForAReversedIpv6AddressIsRefused() {
        String zone = ("a".repeat(60) + ".").repeat(3) + "example.test";

        assertThat(dnsblProblems("dnsbl:\n  sites: [" + zone + "]\n"))
                .containsExactly("dnsbl.sites[0]: '" + zone + "' is too long (at most 188 characters, so that a"
                        + " reversed IPv6 address fits in front of it)");
    }

    @Test
    void everyBadSettingIsReportedAtOnce() {
        assertThat(
                        dnsblProblems(
                                """
                        dnsbl:
                          sites: []
                          threshold: 0
                          allowlist-threshold: 2
                          timeout: 0s
                          cache-ttl: soon
                          treshold: 2
                        """))
                .containsExactly(
                        "dnsbl.treshold: unknown key (did you mean 'threshold'?)",
                        "dnsbl.sites: is empty (DNS lists such as zen.example.test=127.0.0.[2..11]*3)",
                        "dnsbl.threshold: 0 must be >= 1",
                        "dnsbl.allowlist-threshold: 2 must be between -1000000000 and 0",
                        "dnsbl.timeout: 0s must be > 0",
                        "dnsbl.cache-ttl: 'soon' is not a duration (a number with ms, s, m, h or d, e.g. 30s; a bare"
                                + " number is seconds)");
    }

    @Test
    void sitesAreRequiredAndBounded() {
        assertThat(dnsblProblems("dnsbl:\n  threshold: 2\n")).containsExactly("dnsbl.sites: is required");
        StringBuilder many = new StringBuilder("dnsbl:\n  sites:\n");
        for (int i = 0; i < 33; i++) {
            many.append("    - l").append(i).append(".example.test\n");
        }
        assertThat(dnsblProblems(many.toString()))
                .containsExactly("dnsbl.sites: 33 sites; at most 32 (each costs a DNS query per client)");
    }

    // --- spf

    private static SpfConfig spf(String yaml) throws ConfigException {
        return ConfigLoader.readFragment(yaml, root -> DnsReader.spf(root.get("spf")));
    }

    @Test
    void readsEverySpfPolicy() throws ConfigException {
        assertThat(spf("spf:\n  policy: reject\n  timeout: 5s\n"))
                .isEqualTo(new SpfConfig(SpfConfig.Policy.REJECT, Duration.ofSeconds(5)));
        assertThat(spf("spf:\n  policy: off\n").policy())
                .as("YAML 1.1 reads a bare off as false")
                .isEqualTo(SpfConfig.Policy.OFF);
        assertThat(spf("spf:\n  policy: 'off'\n").policy()).isEqualTo(SpfConfig.Policy.OFF);
        assertThat(spf("spf: {}\n"))
                .as("a section without a policy annotates")
                .isEqualTo(new SpfConfig(SpfConfig.Policy.ANNOTATE, SpfConfig.DEFAULT_TIMEOUT));
        assertThat(spf("other: 1\n")).as("no section, no checks").isEqualTo(SpfConfig.OFF);
        assertThat(spf("spf: {}\n").temperror()).as("temperror fails open").isEqualTo(DnsFailure.ACCEPT);
        assertThat(spf("spf: {temperror: tempfail}\n").temperror()).isEqualTo(DnsFailure.TEMPFAIL);
    }

    @Test
    void badSpfSettingsAreNamed() {
        assertThat(fragmentProblems(
                        "spf:\n  policy: enforce\n  timeout: -1\n  polcy: reject\n",
                        root -> DnsReader.spf(root.get("spf"))))
                .containsExactly(
                        "spf.polcy: unknown key (did you mean 'policy'?)",
                        "spf.policy: 'enforce' is not one of off, annotate, reject",
                        "spf.timeout: -1 must be > 0");
        assertThat(fragmentProblems("spf: reject\n", root -> DnsReader.spf(root.get("spf"))))
                .containsExactly("spf: 'reject' is not a mapping");
    }
}
