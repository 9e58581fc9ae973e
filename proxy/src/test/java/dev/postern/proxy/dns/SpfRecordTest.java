package dev.postern.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Parsing SPF records into terms, without DNS. */
class SpfRecordTest {

    @Test
    void parsesEveryMechanismWithItsQualifier() {
        SpfRecord r = SpfRecord.parse("v=spf1 +a -mx:mail.example.com/24 ~ptr ?ip4:192.0.2.0/24 ip6:2001:db8::/32"
                + " include:_spf.example.net exists:%{ir}.bl.example.org a:host.example.com/28//64 mx//56 -all");

        assertThat(r.mechanisms())
                .extracting(SpfRecord.Mechanism::text)
                .containsExactly(
                        "+a",
                        "-mx:mail.example.com/24",
                        "~ptr",
                        "?ip4:192.0.2.0/24",
                        "ip6:2001:db8::/32",
                        "include:_spf.example.net",
                        "exists:%{ir}.bl.example.org",
                        "a:host.example.com/28//64",
                        "mx//56",
                        "-all");
        assertThat(r.mechanisms())
                .extracting(SpfRecord.Mechanism::qualifier)
                .containsExactly(
                        SpfRecord.Qualifier.PASS,
                        SpfRecord.Qualifier.FAIL,
                        SpfRecord.Qualifier.SOFTFAIL,
                        SpfRecord.Qualifier.NEUTRAL,
                        SpfRecord.Qualifier.PASS,
                        SpfRecord.Qualifier.PASS,
                        SpfRecord.Qualifier.PASS,
                        SpfRecord.Qualifier.PASS,
                        SpfRecord.Qualifier.PASS,
                        SpfRecord.Qualifier.FAIL);
        SpfRecord.A a = (SpfRecord.A) r.mechanisms().get(0);
        assertThat(a.domain()).isEmpty();
        assertThat(a.cidr4()).isEqualTo(32);
        assertThat(a.cidr6()).isEqualTo(128);
        SpfRecord.Mx mx = (SpfRecord.Mx) r.mechanisms().get(1);
        assertThat(mx.domain().orElseThrow()).hasToString("mail.example.com");
        assertThat(mx.cidr4()).isEqualTo(24);
        SpfRecord.A dual = (SpfRecord.A) r.mechanisms().get(7);
        assertThat(dual.cidr4()).isEqualTo(28);
        assertThat(dual.cidr6()).isEqualTo(64);
        SpfRecord.Mx mx6 = (SpfRecord.Mx) r.mechanisms().get(8);
        assertThat(mx6.cidr4()).isEqualTo(32);
        assertThat(mx6.cidr6()).isEqualTo(56);
        SpfRecord.Ip ip6 = (SpfRecord.Ip) r.mechanisms().get(4);
        assertThat(ip6.network()).hasSize(16);
        assertThat(ip6.prefix()).isEqualTo(32);
        assertThat(r.hasAll()).isTrue();
        assertThat(r.mechanisms()).filteredOn(SpfRecord.Mechanism::queriesDns).hasSize(7);
    }

    @Test
    void readsModifiersAndIgnoresUnknownOnes() {
        SpfRecord r = SpfRecord.parse("v=spf1 ip4:192.0.2.1 redirect=_spf.%{d} exp=explain.%{d} moo=cow.%{d}");

        assertThat(r.redirect().orElseThrow()).hasToString("_spf.%{d}");
        assertThat(r.explanation().orElseThrow()).hasToString("explain.%{d}");
        assertThat(r.mechanisms()).hasSize(1);
        assertThat(r.hasAll()).isFalse();
    }

    @Test
    void namesAreCaseInsensitiveAndSpacesRepeat() {
        SpfRecord r = SpfRecord.parse("V=SPF1  IP4:192.0.2.1   Include:example.com  -ALL ");

        assertThat(r.mechanisms()).hasSize(3);
        assertThat(r.mechanisms().get(2)).isInstanceOf(SpfRecord.All.class);
    }

    @Test
    void recognizesSpfRecordsByTheirVersion() {
        assertThat(SpfRecord.isSpf("v=spf1")).isTrue();
        assertThat(SpfRecord.isSpf("v=spf1 -all")).isTrue();
        assertThat(SpfRecord.isSpf("V=Spf1 -all")).isTrue();
        assertThat(SpfRecord.isSpf("v=spf10 -all")).isFalse();
        assertThat(SpfRecord.isSpf("v=spf1-all")).isFalse();
        assertThat(SpfRecord.isSpf(" v=spf1 -all")).isFalse();
        assertThat(SpfRecord.isSpf("spf2.0/pra -all")).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            textBlock =
                    """
                    v=spf1 ip4:192.0.2.300                   | '192.0.2.300' is not an IPv4 address
                    v=spf1 ip4:192.0.2.01                    | '192.0.2.01' is not an IPv4 address
                    v=spf1 ip4:192.0.2.0/33                  | '33' is not a prefix length (0-32)
                    v=spf1 ip4:192.0.2.0/024                 | '024' is not a prefix length (0-32)
                    v=spf1 ip4:192.0.2.0/                    | '' is not a prefix length (0-32)
                    v=spf1 ip6:2001:db8::/129                | '129' is not a prefix length (0-128)
                    v=spf1 ip6:2001:db8:::1                  | is not an IPv6 address
                    v=spf1 ip6:192.0.2.1                     | '192.0.2.1' is not an IPv6 address
                    v=spf1 ip4                               | needs ':' and a network
                    v=spf1 a:example.com//129                | '129' is not a prefix length (0-128)
                    v=spf1 a/                                | '/' without a prefix length
                    v=spf1 include                           | needs ':' and a domain
                    v=spf1 include:                          | needs ':' and a domain
                    v=spf1 exists:example                    | does not end in a macro or a top-level label
                    v=spf1 all:example.com                   | all takes no argument
                    v=spf1 frobnicate:example.com            | unknown mechanism 'frobnicate'
                    v=spf1 +-all                             | is not a mechanism
                    v=spf1 -redirect=example.com             | unknown mechanism 'redirect'
                    v=spf1 redirect=a.example redirect=b.example | redirect= appears twice
                    v=spf1 exp=a.example exp=b.example       | exp= appears twice
                    v=spf1 redirect=                         | an empty domain-spec
                    v=spf1 moo=%{x}                          | 'x' is not a macro letter
                    v=spf1 include:%{d}.example.com%         | ends with a lone '%'
                    v=spf1 include:exa\tmple.com            | has a character a macro-string may not
                    """)
    void syntaxErrorsNameTheTerm(String record, String problem) {
        assertThatThrownBy(() -> SpfRecord.parse(record.replace("\\t", "\t")))
                .isInstanceOf(SpfSyntaxException.class)
                .hasMessageContaining(problem);
    }

    @ParameterizedTest
    @ValueSource(strings = {"v=spf1", "v=spf1 ", "v=spf1 a mx -all", "v=spf1 a:%{d}/24"})
    void validRecordsParse(String record) {
        SpfRecord.parse(record);
    }

    @Test
    void networksMatchOnTheirPrefixBits() throws Exception {
        byte[] client = InetAddress.getByName("192.0.2.130").getAddress();

        assertThat(SpfRecord.inNetwork(
                        client, InetAddress.getByName("192.0.2.128").getAddress(), 25))
                .isTrue();
        assertThat(SpfRecord.inNetwork(
                        client, InetAddress.getByName("192.0.2.0").getAddress(), 25))
                .isFalse();
        assertThat(SpfRecord.inNetwork(client, InetAddress.getByName("10.0.0.0").getAddress(), 0))
                .isTrue();
        assertThat(SpfRecord.inNetwork(
                        client, InetAddress.getByName("2001:db8::").getAddress(), 0))
                .as("families never match")
                .isFalse();
        byte[] v6 = InetAddress.getByName("2001:db8:0:1::5").getAddress();
        assertThat(SpfRecord.inNetwork(v6, InetAddress.getByName("2001:db8::").getAddress(), 48))
                .isTrue();
        assertThat(SpfRecord.inNetwork(v6, InetAddress.getByName("2001:db8::").getAddress(), 64))
                .isFalse();
    }

    @Test
    void thousandsOfTermsParse() {
        StringBuilder record = new StringBuilder("v=spf1");
        for (int i = 0; i < 2000; i++) {
            record.append(" ip4:198.51.100.").append(i % 250);
        }
        assertThat(SpfRecord.parse(record.append(" -all").toString()).mechanisms())
                .hasSize(2001);
    }
}
