package dev.postern.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** Names and reversed addresses, without DNS. */
class DnsNamesTest {

    @Test
    void normalizesCaseAndTheTrailingDot() {
        assertThat(DnsNames.normalize("Mail.Example.TEST.")).isEqualTo("mail.example.test");
        assertThat(DnsNames.normalize("mail.example.test")).isEqualTo("mail.example.test");
        assertThat(DnsNames.normalize("_spf.example.test")).isEqualTo("_spf.example.test");
    }

    @Test
    void refusesNamesDnsCannotCarry() {
        assertThat(DnsNames.normalize("")).isNull();
        assertThat(DnsNames.normalize(".")).isNull();
        assertThat(DnsNames.normalize("a..b")).isNull();
        assertThat(DnsNames.normalize(".a.b")).isNull();
        assertThat(DnsNames.normalize("a.b..")).isNull();
        assertThat(DnsNames.normalize("a b.test")).isNull();
        assertThat(DnsNames.normalize("caf\u00e9.test")).isNull();
        assertThat(DnsNames.normalize("x\r\n.test")).isNull();
        assertThat(DnsNames.normalize("a".repeat(63) + ".test")).isNotNull();
        assertThat(DnsNames.normalize("a".repeat(64) + ".test")).isNull();
        String max = ("a".repeat(62) + ".").repeat(4) + "a";
        assertThat(max).hasSize(253);
        assertThat(DnsNames.normalize(max)).isNotNull();
        assertThat(DnsNames.normalize(max + "."))
                .as("the trailing dot does not count")
                .isNotNull();
        assertThat(DnsNames.normalize(max + "a")).isNull();
    }

    @Test
    void reversesIpv4Octets() throws Exception {
        InetAddress client = InetAddress.getByName("192.0.2.1");

        assertThat(DnsNames.reversed(client)).isEqualTo("1.2.0.192");
        assertThat(DnsNames.ptrName(client)).isEqualTo("1.2.0.192.in-addr.arpa");
    }

    @Test
    void reversesIpv6Nibbles() throws Exception {
        InetAddress client = InetAddress.getByName("2001:db8::567:89ab");

        assertThat(DnsNames.reversed(client))
                .isEqualTo("b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
        assertThat(DnsNames.ptrName(client)).endsWith(".8.b.d.0.1.0.0.2.ip6.arpa");
    }

    @Test
    void anIpv4MappedAddressIsItsIpv4Address() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = (byte) 192;
        mapped[15] = 1;
        InetAddress v6 = java.net.Inet6Address.getByAddress(null, mapped, -1);

        assertThat(DnsNames.unmapped(v6)).isInstanceOf(Inet4Address.class).hasToString("/192.0.0.1");
        assertThat(DnsNames.reversed(v6)).isEqualTo("1.0.0.192");
        assertThat(DnsNames.unmapped(InetAddress.getByName("2001:db8::1")))
                .isEqualTo(InetAddress.getByName("2001:db8::1"));
    }
}
