package dev.postern.config;

import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static dev.postern.config.ConfigTexts.withListener;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProxyProtocolConfigTest {
    private static final String IMAPS = "name: imaps\nprotocol: imap\nbind: 127.0.0.1:1993\n";

    private static ListenerConfig listener(String block) throws ConfigException {
        return parse(withListener(IMAPS + block)).listeners().get(0);
    }

    @Test
    void readsTheWholeBlock() throws Exception {
        ProxyProtocolConfig p = listener(
                        """
                        proxy-protocol:
                          mode: required
                          trusted: [127.0.0.0/8, "::1/128", 10.0.0.7]
                          timeout: 3s
                        """)
                .proxyProtocol();

        assertThat(p.mode()).isEqualTo(ProxyProtocolConfig.Mode.REQUIRED);
        assertThat(p.trusted())
                .containsExactly(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128"), Cidr.parse("10.0.0.7/32"));
        assertThat(p.timeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(p.trusts(InetAddress.getByName("127.0.0.2"))).isTrue();
        assertThat(p.trusts(InetAddress.getByName("::ffff:127.0.0.2")))
                .as("an IPv4-mapped peer counts as IPv4")
                .isTrue();
        assertThat(p.trusts(InetAddress.getByName("10.0.0.8"))).isFalse();
        assertThat(p.trusts(null)).isFalse();
    }

    @Test
    void isOffWithoutTheBlockAndTheTimeoutDefaultsToFiveSeconds() throws Exception {
        assertThat(listener("").proxyProtocol()).isEqualTo(ProxyProtocolConfig.OFF);
        ProxyProtocolConfig p = listener("proxy-protocol: {mode: optional, trusted: [10.0.0.0/8]}")
                .proxyProtocol();
        assertThat(p.mode()).isEqualTo(ProxyProtocolConfig.Mode.OPTIONAL);
        assertThat(p.timeout()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void aBareOffIsTheOffMode() throws Exception {
        // YAML 1.1 reads a bare off as false
        ProxyProtocolConfig p =
                listener("proxy-protocol: {mode: off, trusted: [10.0.0.0/8]}").proxyProtocol();
        assertThat(p.mode()).isEqualTo(ProxyProtocolConfig.Mode.OFF);
    }

    @Test
    void trustedNetworksAreRequiredUnlessOff() {
        assertThat(problems(withListener(IMAPS + "proxy-protocol: {mode: required}")))
                .containsExactly("listeners[0].proxy-protocol.trusted: is required when mode is required (the"
                        + " networks of the balancers that may send a header, e.g. [10.0.0.0/8])");
        assertThat(problems(withListener(IMAPS + "proxy-protocol: {mode: optional, trusted: []}")))
                .containsExactly("listeners[0].proxy-protocol.trusted: is empty (the networks of the balancers that"
                        + " may send a header, e.g. [10.0.0.0/8])");
    }

    @Test
    void aBlockWithoutModeIsReportedRatherThanSilentlyOff() {
        assertThat(problems(withListener(IMAPS + "proxy-protocol: {trusted: [10.0.0.0/8]}")))
                .containsExactly("listeners[0].proxy-protocol.mode: is required (off, optional or required): without"
                        + " it the block does nothing");
    }

    @Test
    void everyBadValueIsReportedWithItsPath() {
        assertThat(
                        problems(
                                withListener(
                                        IMAPS
                                                + """
                        proxy-protocol:
                          mode: always
                          trusted: [10.0.0.0/33, lb.example.com]
                          timeout: 5 parsecs
                          trust: []
                        """)))
                .containsExactlyInAnyOrder(
                        "listeners[0].proxy-protocol.trust: unknown key (did you mean 'trusted'?)",
                        "listeners[0].proxy-protocol.mode: 'always' is not one of off, optional, required",
                        "listeners[0].proxy-protocol.trusted[0]: '10.0.0.0/33' has a bad prefix length (0-32 for this"
                                + " address)",
                        "listeners[0].proxy-protocol.trusted[1]: 'lb.example.com' is not an IP network"
                                + " (address/prefix, e.g. 10.0.0.0/8)",
                        "listeners[0].proxy-protocol.timeout: '5 parsecs' is not a duration (unit 'parsecs' is not"
                                + " one of ms, s, m, h, d)");
    }

    @Test
    void theTimeoutIsPositiveAndBounded() {
        assertThat(problems(withListener(IMAPS + "proxy-protocol: {mode: required, trusted: [\"::1\"], timeout: 0s}")))
                .containsExactly("listeners[0].proxy-protocol.timeout: 0s must be > 0");
        assertThat(problems(withListener(IMAPS + "proxy-protocol: {mode: required, trusted: [\"::1\"], timeout: 2m}")))
                .containsExactly("listeners[0].proxy-protocol.timeout: 2m is too long (at most 1m: the header is the"
                        + " first thing a balancer sends)");
    }

    @Test
    void theBlockMustBeAMapping() {
        assertThat(problems(withListener(IMAPS + "proxy-protocol: required")))
                .containsExactly("listeners[0].proxy-protocol: 'required' is not a mapping");
    }

    @Test
    void theConfigurationInForceShowsTheBlock() throws Exception {
        PosternConfig config = parse(withListener(
                IMAPS + "proxy-protocol: {mode: required, trusted: [127.0.0.0/8, \"::1\"], timeout: 1500ms}"));
        JsonNode json = ConfigJson.toTree(config).at("/listeners/0/proxy-protocol");

        assertThat(json.at("/mode").asText()).isEqualTo("required");
        assertThat(json.at("/trusted/0").asText()).isEqualTo("127.0.0.0/8");
        assertThat(json.at("/trusted/1").asText()).isEqualTo("0:0:0:0:0:0:0:1/128");
        assertThat(json.at("/timeout").asText()).isEqualTo("1500ms");
    }
}
