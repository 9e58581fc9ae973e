package dev.postern.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzzes the SPF record parser and its macro expansion with TXT records a sender's domain publishes (anyone's bytes).
 * Properties: a record parses or is an {@link SpfSyntaxException}, never another exception; networks are 4 or 16 bytes
 * with a prefix in range, CIDR lengths in range; every domain-spec expands for a v4 and a v6 client to a name of at
 * most 253 characters (or a single label), and an {@code exp=} text expands too. The seed corpus is in
 * {@code SpfRecordFuzzTestInputs/}.
 */
class SpfRecordFuzzTest {
    private static final List<SpfMacro.Context> CONTEXTS = contexts();

    @FuzzTest
    void parsesOrRefusesAndExpandsWithinBounds(byte[] input) {
        String text = new String(input, StandardCharsets.ISO_8859_1);
        SpfRecord record;
        try {
            record = SpfRecord.parse(text);
        } catch (SpfSyntaxException e) {
            assertThat(e.getMessage()).isNotNull();
            return;
        }
        List<SpfMacro> domains = new ArrayList<>();
        for (SpfRecord.Mechanism m : record.mechanisms()) {
            assertThat(m.qualifier()).isNotNull();
            assertThat(text).contains(m.text());
            if (m instanceof SpfRecord.Ip ip) {
                assertThat(ip.network().length).isIn(4, 16);
                assertThat(ip.prefix()).isBetween(0, ip.network().length * 8);
            } else if (m instanceof SpfRecord.A a) {
                assertCidr(a.cidr4(), a.cidr6());
                a.domain().ifPresent(domains::add);
            } else if (m instanceof SpfRecord.Mx mx) {
                assertCidr(mx.cidr4(), mx.cidr6());
                mx.domain().ifPresent(domains::add);
            } else if (m instanceof SpfRecord.Ptr p) {
                p.domain().ifPresent(domains::add);
            } else if (m instanceof SpfRecord.Include i) {
                domains.add(i.domain());
            } else if (m instanceof SpfRecord.Exists e) {
                domains.add(e.domain());
            } else {
                assertThat(m).isInstanceOf(SpfRecord.All.class);
            }
        }
        record.redirect().ifPresent(domains::add);
        for (SpfMacro.Context c : CONTEXTS) {
            for (SpfMacro d : domains) {
                String name = d.expandDomain(c);
                assertThat(name.length() <= DnsNames.MAX_NAME || name.indexOf('.') < 0)
                        .as("expanded %s", name)
                        .isTrue();
            }
            record.explanation().ifPresent(e -> assertThat(e.expandDomain(c)).isNotNull());
        }
    }

    private static void assertCidr(int cidr4, int cidr6) {
        assertThat(cidr4).isBetween(0, 32);
        assertThat(cidr6).isBetween(0, 128);
    }

    private static List<SpfMacro.Context> contexts() {
        try {
            return List.of(
                    new SpfMacro.Context(
                            InetAddress.getByName("192.0.2.10"),
                            "alice@example.test",
                            "example.test",
                            "mx.example.test"),
                    new SpfMacro.Context(
                            InetAddress.getByName("2001:db8::1"), "postmaster", "sub.example.test", "[2001:db8::1]"));
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
