package dev.postern.proxy.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** XCLIENT command building. */
class XclientTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("198.51.100.4", 1234);

    @Test
    void sendsOnlyTheAttributesTheBackendLists() {
        assertThat(Xclient.command(List.of("ADDR", "PORT", "NAME", "HELO", "LOGIN", "PROTO"), CLIENT, "c.example", "u"))
                .isEqualTo("XCLIENT ADDR=198.51.100.4 PORT=1234 NAME=[UNAVAILABLE] HELO=c.example LOGIN=u PROTO=ESMTP");
        assertThat(Xclient.command(List.of("ADDR"), CLIENT, "c.example", "u")).isEqualTo("XCLIENT ADDR=198.51.100.4");
        assertThat(Xclient.command(List.of("SESSION", "TTL"), CLIENT, "c.example", "u"))
                .isNull();
    }

    @Test
    void leavesOutWhatIsNotKnown() {
        assertThat(Xclient.command(List.of("ADDR", "HELO", "LOGIN"), CLIENT, null, null))
                .isEqualTo("XCLIENT ADDR=198.51.100.4");
    }

    @Test
    void ipv6AddressesAreTagged() throws Exception {
        assertThat(Xclient.address(InetAddress.getByName("2001:db8::1"))).isEqualTo("IPV6:2001:db8:0:0:0:0:0:1");
        assertThat(Xclient.address(InetAddress.getByName("fe80::1%1"))).isEqualTo("IPV6:fe80:0:0:0:0:0:0:1");
        assertThat(Xclient.address(InetAddress.getByName("::ffff:192.0.2.7"))).isEqualTo("192.0.2.7");
    }
}
