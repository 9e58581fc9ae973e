package dev.postern.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxySSLTLV;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The header is checked byte for byte and, independently, by Netty's PROXY protocol decoder. */
class ProxyProtocolV2Test {

    private static HAProxyMessage decode(ByteBuf header) {
        EmbeddedChannel ch = new EmbeddedChannel(new HAProxyMessageDecoder());
        ch.writeInbound(header);
        HAProxyMessage msg = ch.readInbound();
        ch.finishAndReleaseAll();
        return msg;
    }

    @Test
    void ipv4HeaderCarriesBothAddressesAndPorts() {
        ByteBuf header = ProxyProtocolV2.encode(
                PooledByteBufAllocator.DEFAULT,
                new InetSocketAddress("192.0.2.7", 51000),
                new InetSocketAddress("198.51.100.1", 993),
                null,
                null);
        assertThat(ByteBufUtil.hexDump(header))
                .isEqualTo(
                        "0d0a0d0a000d0a515549540a" + "21" + "11" + "000c" + "c0000207" + "c6336401" + "c738" + "03e1");
        HAProxyMessage msg = decode(header);
        try {
            assertThat(msg.command()).isEqualTo(HAProxyCommand.PROXY);
            assertThat(msg.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP4);
            assertThat(msg.sourceAddress()).isEqualTo("192.0.2.7");
            assertThat(msg.sourcePort()).isEqualTo(51000);
            assertThat(msg.destinationAddress()).isEqualTo("198.51.100.1");
            assertThat(msg.destinationPort()).isEqualTo(993);
            assertThat(msg.tlvs()).isEmpty();
        } finally {
            msg.release();
        }
    }

    @Test
    void ipv6HeaderIsTcp6() {
        HAProxyMessage msg = decode(ProxyProtocolV2.encode(
                PooledByteBufAllocator.DEFAULT,
                new InetSocketAddress("2001:db8::7", 40000),
                new InetSocketAddress("2001:db8::1", 143),
                null,
                null));
        try {
            assertThat(msg.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP6);
            assertThat(msg.sourceAddress()).isEqualTo("2001:db8:0:0:0:0:0:7");
            assertThat(msg.destinationPort()).isEqualTo(143);
        } finally {
            msg.release();
        }
    }

    @Test
    void ipv4ClientOnIpv6ListenerMapsTheListenerAddress() {
        HAProxyMessage msg = decode(ProxyProtocolV2.encode(
                PooledByteBufAllocator.DEFAULT,
                new InetSocketAddress("192.0.2.7", 40000),
                new InetSocketAddress("2001:db8::1", 143),
                null,
                null));
        try {
            assertThat(msg.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP6);
            assertThat(msg.sourceAddress()).isEqualTo("0:0:0:0:0:ffff:c000:207");
        } finally {
            msg.release();
        }
    }

    @Test
    void tlsClientIsAnnouncedWithVersionAndCipher() {
        HAProxyMessage msg = decode(ProxyProtocolV2.encode(
                PooledByteBufAllocator.DEFAULT,
                new InetSocketAddress("192.0.2.7", 51000),
                new InetSocketAddress("198.51.100.1", 993),
                "TLSv1.3",
                "TLS_AES_128_GCM_SHA256"));
        try {
            // Netty lists the SSL TLV and, after it, the sub-TLVs it encapsulates
            assertThat(msg.tlvs()).first().isInstanceOf(HAProxySSLTLV.class);
            HAProxySSLTLV ssl = (HAProxySSLTLV) msg.tlvs().get(0);
            assertThat(ssl.isPP2ClientSSL()).isTrue();
            assertThat(ssl.verify()).isZero();
            assertThat(ssl.encapsulatedTLVs())
                    .extracting(t -> t.typeByteValue() + "=" + t.content().toString(StandardCharsets.US_ASCII))
                    .containsExactly(
                            HAProxyTLV.Type.byteValueForType(HAProxyTLV.Type.PP2_TYPE_SSL_VERSION) + "=TLSv1.3",
                            "35=TLS_AES_128_GCM_SHA256"); // 0x23, PP2_SUBTYPE_SSL_CIPHER
        } finally {
            msg.release();
        }
    }

    @Test
    void unknownAddressesGiveALocalHeader() {
        ByteBuf header = ProxyProtocolV2.encode(PooledByteBufAllocator.DEFAULT, null, null, null, null);
        assertThat(ByteBufUtil.hexDump(header)).isEqualTo("0d0a0d0a000d0a515549540a" + "20" + "00" + "0000");
        HAProxyMessage msg = decode(header);
        try {
            assertThat(msg.command()).isEqualTo(HAProxyCommand.LOCAL);
        } finally {
            msg.release();
        }
    }
}
