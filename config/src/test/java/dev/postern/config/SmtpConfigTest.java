package dev.postern.config;

import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static dev.postern.config.ConfigTexts.withListener;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The {@code smtp} block of a listener: role, relay policy, zombie tests, limits. */
class SmtpConfigTest {
    private static final String RELAY_HEAD =
            """
            name: mx
            protocol: smtp
            bind: 0.0.0.0:25
            tls: starttls
            pool: postfix
            smtp:
            """;

    private static ListenerConfig relay(String smtpBlock) throws ConfigException {
        return parse(withListener(RELAY_HEAD + smtpBlock.strip().indent(2)))
                .listeners()
                .get(0);
    }

    private static List<String> relayProblems(String smtpBlock) {
        return problems(withListener(RELAY_HEAD + smtpBlock.strip().indent(2)));
    }

    @Test
    void readsTheWorkedExample() throws Exception {
        ListenerConfig l = relay(
                """
                role: relay
                hostname: mx.example.com
                local-domains: [example.com, Example.ORG.]
                trusted-networks: [10.0.0.0/8, "2001:db8::/32"]
                require-tls: true
                max-message-size: 20MiB
                data: {bare-lf: normalize}
                pregreet: {banner: "mx.example.com ESMTP", wait: 6s}
                dnsbl: {sites: ["zen.example.test=127.0.0.[2..11]*3", "wl.example.test*-2"], threshold: 3,
                        allowlist-threshold: -1, timeout: 2s, cache-ttl: 1h}
                dnsbl-action: enforce
                allowlist: [192.0.2.0/24]
                passed-cache: 24h
                spf: {policy: reject, timeout: 10s}
                limits: {connections-per-client: 10, connections-per-minute: 60, messages-per-connection: 100,
                         recipients-per-message: 50, errors-per-session: 10}
                """);
        SmtpConfig s = l.smtp();
        assertThat(s.role()).isEqualTo(SmtpConfig.Role.RELAY);
        assertThat(s.hostname()).contains("mx.example.com");
        assertThat(s.localDomains()).containsExactly("example.com", "example.org");
        assertThat(s.trustedNetworks()).containsExactly(Cidr.parse("10.0.0.0/8"), Cidr.parse("2001:db8::/32"));
        assertThat(s.requireTls()).isTrue();
        assertThat(s.maxMessageSize()).isEqualTo(20L * 1024 * 1024);
        assertThat(s.bareLineEndings()).isEqualTo(SmtpConfig.BareLineEndings.NORMALIZE);
        assertThat(s.pregreet()).contains(new SmtpConfig.Pregreet("mx.example.com ESMTP", Duration.ofSeconds(6)));
        assertThat(s.dnsbl()).isPresent();
        assertThat(s.dnsbl().get().sites())
                .extracting(DnsblSite::toString)
                .containsExactly("zen.example.test=127.0.0.[2..11]*3", "wl.example.test*-2");
        assertThat(s.dnsbl().get().threshold()).isEqualTo(3);
        assertThat(s.dnsbl().get().allowlists(-1)).isTrue();
        assertThat(s.dnsblAction()).isEqualTo(SmtpConfig.DnsblAction.ENFORCE);
        assertThat(s.allowlist()).containsExactly(Cidr.parse("192.0.2.0/24"));
        assertThat(s.passedCache()).isEqualTo(Duration.ofHours(24));
        assertThat(s.spf()).isEqualTo(new SpfConfig(SpfConfig.Policy.REJECT, Duration.ofSeconds(10)));
        assertThat(s.limits()).isEqualTo(new SmtpConfig.Limits(10, 60, 100, 50, 10));
    }

    @Test
    void aRelayHasSafeDefaults() throws Exception {
        SmtpConfig s = relay("role: relay").smtp();
        assertThat(s.hostname()).isEmpty();
        assertThat(s.localDomains()).isEmpty();
        assertThat(s.trustedNetworks()).as("nobody may relay by default").isEmpty();
        assertThat(s.requireTls()).isFalse();
        assertThat(s.bareLineEndings()).isEqualTo(SmtpConfig.BareLineEndings.REJECT);
        assertThat(s.pregreet()).isEmpty();
        assertThat(s.dnsbl()).isEmpty();
        assertThat(s.spf().policy()).isEqualTo(SpfConfig.Policy.OFF);
        assertThat(s.limits()).isEqualTo(SmtpConfig.Limits.DEFAULTS);
    }

    @Test
    void listenersWithoutTheBlockAreSubmission() throws Exception {
        ListenerConfig l = parse(withListener("name: sub\nprotocol: smtp\nbind: 127.0.0.1:1587"))
                .listeners()
                .get(0);
        assertThat(l.smtp()).isEqualTo(SmtpConfig.DEFAULTS);
        assertThat(l.smtp().role()).isEqualTo(SmtpConfig.Role.SUBMISSION);
    }

    @Test
    void theBlockIsOnlyForSmtpListeners() {
        assertThat(problems(withListener("name: imap\nprotocol: imap\nbind: 127.0.0.1:1143\nsmtp: {role: relay}")))
                .containsExactly("listeners[0].smtp: is only for smtp and lmtp listeners (this one is imap)");
    }

    @Test
    void lmtpListenersTakeTheirHostnameSizeAndDataChecksOnly() throws Exception {
        ListenerConfig l = parse(
                        withListener("name: lmtp\nprotocol: lmtp\nbind: 127.0.0.1:1024\nsmtp: {hostname: lmtp.test,"
                                + " max-message-size: 1MiB, data: {bare-lf: normalize}}"))
                .listeners()
                .get(0);
        assertThat(l.protocol()).isEqualTo(Protocol.LMTP);
        assertThat(l.smtp().hostname()).contains("lmtp.test");
        assertThat(l.smtp().maxMessageSize()).isEqualTo(1024 * 1024);
        assertThat(problems(withListener("name: lmtp\nprotocol: lmtp\nbind: 127.0.0.1:1024\nsmtp: {role: relay}")))
                .containsExactly(
                        "listeners[0].smtp.role: is not for lmtp listeners (they take hostname, max-message-size and"
                                + " data)");
    }

    @Test
    void aSubmissionListenerTakesTheDataRule() throws Exception {
        ListenerConfig l = parse(withListener(
                        "name: sub\nprotocol: smtp\nbind: 127.0.0.1:1587\nsmtp: {data: {bare-lf: normalize}}"))
                .listeners()
                .get(0);
        assertThat(l.smtp().role()).isEqualTo(SmtpConfig.Role.SUBMISSION);
        assertThat(l.smtp().bareLineEndings()).isEqualTo(SmtpConfig.BareLineEndings.NORMALIZE);
    }

    @Test
    void relayKeysNeedTheRelayRole() {
        assertThat(relayProblems("local-domains: [example.com]\ndnsbl-action: drop"))
                .containsExactly(
                        "listeners[0].smtp.local-domains: is only for role relay (this listener's role is submission)",
                        "listeners[0].smtp.dnsbl-action: is only for role relay (this listener's role is submission)");
    }

    @Test
    void aRelayNeedsAPool() {
        assertThat(problems(withListener("name: mx\nprotocol: smtp\nbind: 127.0.0.1:25\nsmtp: {role: relay}")))
                .containsExactly("listeners[0].smtp.role: relay needs the listener's pool (mail for local-domains"
                        + " and from trusted-networks goes there)");
    }

    @Test
    void everyProblemIsReportedWithItsPath() {
        assertThat(relayProblems("""
                        role: relai
                        """))
                .containsExactly("listeners[0].smtp.role: 'relai' is not one of submission, relay");
        assertThat(
                        relayProblems(
                                """
                        role: relay
                        hostname: "mx example"
                        local-domains: [example.com, "-bad-.com", example.com]
                        trusted-networks: [10.0.0.0/33, mx.example.com]
                        max-message-size: 10MB
                        data: {bare-lf: keep}
                        pregreet: {wait: 2m}
                        dnsbl: {sites: [], thresold: 2}
                        spf: {policy: strict}
                        limits: {recipients-per-message: -1, error-per-session: 3}
                        """))
                .containsExactly(
                        "listeners[0].smtp.hostname: 'mx example' is not a host name such as mx.example.com",
                        "listeners[0].smtp.local-domains[1]: '-bad-.com' is not a domain such as example.com",
                        "listeners[0].smtp.local-domains[2]: 'example.com' is already listed at"
                                + " listeners[0].smtp.local-domains[0]",
                        "listeners[0].smtp.trusted-networks[0]: '10.0.0.0/33' has a bad prefix length (0-32 for this"
                                + " address)",
                        "listeners[0].smtp.trusted-networks[1]: 'mx.example.com' is not an IP network (address/prefix,"
                                + " e.g. 10.0.0.0/8)",
                        "listeners[0].smtp.max-message-size: '10MB' is not a size (unit 'MB' is not one of KiB, MiB,"
                                + " GiB; sizes use binary units)",
                        "listeners[0].smtp.data.bare-lf: 'keep' is not one of reject, normalize",
                        "listeners[0].smtp.pregreet.banner: is required",
                        "listeners[0].smtp.pregreet.wait: 120s is too long (at most 60s; real servers give up"
                                + " waiting)",
                        "listeners[0].smtp.dnsbl.thresold: unknown key (did you mean 'threshold'?)",
                        "listeners[0].smtp.dnsbl.sites: is empty (DNS lists such as"
                                + " zen.example.test=127.0.0.[2..11]*3)",
                        "listeners[0].smtp.spf.policy: 'strict' is not one of off, annotate, reject",
                        "listeners[0].smtp.limits.error-per-session: unknown key (did you mean 'errors-per-session'?)",
                        "listeners[0].smtp.limits.recipients-per-message: -1 must be >= 0");
    }

    @Test
    void dnsblActionNeedsLists() {
        assertThat(relayProblems("role: relay\ndnsbl-action: enforce"))
                .containsExactly("listeners[0].smtp.dnsbl-action: has no effect without dnsbl");
    }

    @Test
    void dnsblFailureFailsOpenByDefaultAndCanTempfail() throws Exception {
        String lists = "role: relay\ndnsbl: {sites: [zen.example.test]}\n";
        assertThat(relay(lists).smtp().dnsbl().orElseThrow().onFailure()).isEqualTo(DnsFailure.ACCEPT);
        assertThat(relay(lists + "dnsbl-failure: tempfail")
                        .smtp()
                        .dnsbl()
                        .orElseThrow()
                        .onFailure())
                .isEqualTo(DnsFailure.TEMPFAIL);
        assertThat(relayProblems(lists + "dnsbl-failure: reject"))
                .containsExactly("listeners[0].smtp.dnsbl-failure: 'reject' is not one of accept, tempfail");
        assertThat(relayProblems("role: relay\ndnsbl-failure: tempfail"))
                .containsExactly("listeners[0].smtp.dnsbl-failure: has no effect without dnsbl");
    }

    @Test
    void unknownKeysAreSuggested() {
        assertThat(relayProblems("role: relay\nlocal-domain: [example.com]"))
                .containsExactly("listeners[0].smtp.local-domain: unknown key (did you mean 'local-domains'?)");
    }

    @Test
    void cidrsMatchTheirNetworkOnly() throws Exception {
        Cidr v4 = Cidr.parse("10.1.2.3/8");
        assertThat(v4).hasToString("10.0.0.0/8");
        assertThat(v4.contains(InetAddress.getByName("10.255.0.1"))).isTrue();
        assertThat(v4.contains(InetAddress.getByName("11.0.0.1"))).isFalse();
        assertThat(v4.contains(InetAddress.getByName("::1"))).isFalse();
        Cidr odd = Cidr.parse("192.0.2.64/27");
        assertThat(odd.contains(InetAddress.getByName("192.0.2.95"))).isTrue();
        assertThat(odd.contains(InetAddress.getByName("192.0.2.96"))).isFalse();
        Cidr v6 = Cidr.parse("2001:db8:1::/48");
        assertThat(v6.contains(InetAddress.getByName("2001:db8:1:ffff::1"))).isTrue();
        assertThat(v6.contains(InetAddress.getByName("2001:db8:2::1"))).isFalse();
        assertThat(Cidr.parse("192.0.2.7").contains(InetAddress.getByName("192.0.2.7")))
                .isTrue();
        assertThat(Cidr.parse("192.0.2.7").contains(InetAddress.getByName("192.0.2.8")))
                .isFalse();
        assertThat(Cidr.parse("0.0.0.0/0").contains(InetAddress.getByName("203.0.113.9")))
                .isTrue();
        assertThatThrownBy(() -> Cidr.parse("example.com")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("1.2.3.4.5")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theSubmissionDefaultsAreOneConstant() {
        assertThat(SmtpConfig.DEFAULTS.role()).isEqualTo(SmtpConfig.Role.SUBMISSION);
        assertThat(SmtpConfig.DEFAULTS.hostname()).isEqualTo(Optional.empty());
    }
}
