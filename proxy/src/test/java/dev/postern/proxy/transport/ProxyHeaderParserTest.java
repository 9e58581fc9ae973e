package dev.postern.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * The PROXY header reader, on bytes: every input whole and cut at every byte (each prefix must be incomplete or
 * already give the final answer), with the client's own bytes after the header, which must never be counted in.
 */
class ProxyHeaderParserTest {
    private static final byte[] AFTER = "a1 CAPABILITY\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SIGNATURE = ProxyProtocolV2.SIGNATURE.clone();

    // ---- helpers

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static ProxyHeaderParser.Result parse(byte[] bytes, int length) {
        ByteBuf in = Unpooled.wrappedBuffer(bytes, 0, length);
        int before = in.readerIndex();
        ProxyHeaderParser.Result r = ProxyHeaderParser.parse(in);
        assertThat(in.readerIndex()).as("the reader index stays").isEqualTo(before);
        return r;
    }

    /**
     * Parses {@code bytes} whole and every prefix of it: a prefix gives {@code Incomplete} or the whole's answer
     * already (a parsed header never depends on bytes after it). Returns the whole's answer.
     */
    private static ProxyHeaderParser.Result everySplit(byte[] bytes) {
        ProxyHeaderParser.Result whole = parse(bytes, bytes.length);
        for (int n = 0; n < bytes.length; n++) {
            ProxyHeaderParser.Result prefix = parse(bytes, n);
            if (!(prefix instanceof ProxyHeaderParser.Incomplete)) {
                assertThat(prefix).as("prefix of %d bytes", n).isEqualTo(whole);
            }
        }
        return whole;
    }

    /** Parses {@code header} followed by the client's bytes, at every split; the header's length must be its own. */
    private static ProxyHeader parsed(byte[] header) {
        ProxyHeaderParser.Result r = everySplit(concat(header, AFTER));
        assertThat(r).isInstanceOf(ProxyHeaderParser.Parsed.class);
        ProxyHeaderParser.Parsed p = (ProxyHeaderParser.Parsed) r;
        assertThat(p.length()).as("header length").isEqualTo(header.length);
        for (int n = 0; n < header.length; n++) {
            assertThat(parse(header, n)).as("prefix of %d bytes", n).isInstanceOf(ProxyHeaderParser.Incomplete.class);
        }
        return p.header();
    }

    private static String malformed(byte[] bytes) {
        ProxyHeaderParser.Result r = everySplit(bytes);
        assertThat(r).isInstanceOf(ProxyHeaderParser.Malformed.class);
        return ((ProxyHeaderParser.Malformed) r).reason();
    }

    /** A v2 header: signature, the two command bytes, the length of {@code body}, then {@code body}. */
    private static byte[] v2(int versionCommand, int family, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(16 + body.length);
        b.put(SIGNATURE).put((byte) versionCommand).put((byte) family).putShort((short) body.length);
        b.put(body);
        return b.array();
    }

    private static byte[] tlv(int type, byte[] value) {
        ByteBuffer b = ByteBuffer.allocate(3 + value.length);
        b.put((byte) type).putShort((short) value.length).put(value);
        return b.array();
    }

    private static byte[] ipv4Block() {
        return new byte[] {(byte) 192, 0, 2, 7, (byte) 198, 51, 100, 1, (byte) 0xc7, 0x38, 0x03, (byte) 0xe1};
    }

    private static byte[] bytes(ByteBuf buf) {
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    // ---- v1

    @Test
    void v1Tcp4() {
        ProxyHeader h = parsed(ascii("PROXY TCP4 192.0.2.7 198.51.100.1 51000 993\r\n"));
        assertThat(h.version()).isEqualTo(1);
        assertThat(h.source()).isEqualTo(new InetSocketAddress("192.0.2.7", 51000));
        assertThat(h.destination()).isEqualTo(new InetSocketAddress("198.51.100.1", 993));
        assertThat(h.tls()).isNull();
    }

    @Test
    void v1Tcp6() {
        ProxyHeader h = parsed(ascii("PROXY TCP6 2001:db8::7 2001:db8::1 51000 993\r\n"));
        assertThat(h.source()).isEqualTo(new InetSocketAddress("2001:db8::7", 51000));
        assertThat(h.destination()).isEqualTo(new InetSocketAddress("2001:db8::1", 993));
    }

    @Test
    void v1UnknownKeepsTheConnectionsAddressesAndIgnoresTheRestOfTheLine() {
        assertThat(parsed(ascii("PROXY UNKNOWN\r\n")).hasAddresses()).isFalse();
        assertThat(parsed(ascii("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n")).hasAddresses())
                .isFalse();
    }

    @Test
    void v1LineOfTheLongestLegalLengthIsRead() {
        String max = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
        byte[] line = ascii("PROXY TCP6 " + max + " " + max + " 65535 65535\r\n");
        assertThat(line).hasSize(ProxyHeaderParser.V1_MAX_LINE - 3); // TCP6 is shorter than UNKNOWN
        assertThat(parsed(line).source().getPort()).isEqualTo(65535);
        byte[] unknown = ascii("PROXY UNKNOWN " + max + " " + max + " 65535 65535\r\n");
        assertThat(unknown).hasSize(ProxyHeaderParser.V1_MAX_LINE);
        assertThat(parsed(unknown).hasAddresses()).isFalse();
    }

    @Test
    void v1LineOverTheBoundIsRefusedWithoutWaitingForItsEnd() {
        byte[] line = ascii("PROXY UNKNOWN " + "x".repeat(200));
        assertThat(malformed(line)).isEqualTo("v1 line longer than 107 bytes");
        assertThat(parse(line, ProxyHeaderParser.V1_MAX_LINE)).isInstanceOf(ProxyHeaderParser.Malformed.class);
    }

    @Test
    void v1BrokenLinesAreRefused() {
        assertThat(malformed(ascii("PROXY TCP4 192.0.2.7 198.51.100.1 51000\r\n")))
                .isEqualTo("v1 TCP4 needs 4 fields separated by single spaces");
        assertThat(malformed(ascii("PROXY TCP4 192.0.2.7  198.51.100.1 51000 993\r\n")))
                .isEqualTo("v1 TCP4 needs 4 fields separated by single spaces");
        assertThat(malformed(ascii("PROXY TCP5 192.0.2.7 198.51.100.1 51000 993\r\n")))
                .isEqualTo("v1 protocol is not TCP4, TCP6 or UNKNOWN");
        assertThat(malformed(ascii("PROXY \r\n"))).isEqualTo("v1 protocol is not TCP4, TCP6 or UNKNOWN");
        assertThat(malformed(ascii("PROXY TCP4 192.0.2.7 198.51.100.1 51000 993\n")))
                .isEqualTo("v1 line does not end in CRLF");
        assertThat(malformed(ascii("PROXY TCP4 192.0.2.7 198.51.100.1 51000 993\u0000\r\n")))
                .isEqualTo("v1 line has a byte that is not printable ASCII");
    }

    @Test
    void v1AddressesAndPortsMustBeLiteralsOfTheNamedFamily() {
        for (String bad : List.of(
                "PROXY TCP4 2001:db8::7 198.51.100.1 1 2\r\n",
                "PROXY TCP4 256.0.2.7 198.51.100.1 1 2\r\n",
                "PROXY TCP4 mail.example.com 198.51.100.1 1 2\r\n",
                "PROXY TCP6 192.0.2.7 2001:db8::1 1 2\r\n",
                "PROXY TCP6 fe80::1%eth0 2001:db8::1 1 2\r\n",
                "PROXY TCP6 [2001:db8::7] 2001:db8::1 1 2\r\n")) {
            assertThat(malformed(ascii(bad))).as(bad).startsWith("v1 address is not an IPv");
        }
        for (String bad : List.of(
                "PROXY TCP4 192.0.2.7 198.51.100.1 65536 2\r\n",
                "PROXY TCP4 192.0.2.7 198.51.100.1 -1 2\r\n",
                "PROXY TCP4 192.0.2.7 198.51.100.1 1 0x10\r\n",
                "PROXY TCP4 192.0.2.7 198.51.100.1 1 123456\r\n")) {
            assertThat(malformed(ascii(bad))).as(bad).isEqualTo("v1 port is not a number from 0 to 65535");
        }
    }

    // ---- v2

    @Test
    void v2ProxyIpv4WrittenByPosternsOwnEncoder() {
        ByteBuf header = ProxyProtocolV2.encode(
                PooledByteBufAllocator.DEFAULT,
                new InetSocketAddress("192.0.2.7", 51000),
                new InetSocketAddress("198.51.100.1", 993),
                null,
                null);
        ProxyHeader h = parsed(bytes(header));
        assertThat(h.version()).isEqualTo(2);
        assertThat(h.source()).isEqualTo(new InetSocketAddress("192.0.2.7", 51000));
        assertThat(h.destination()).isEqualTo(new InetSocketAddress("198.51.100.1", 993));
        assertThat(h.tls()).isNull();
    }

    @Test
    void v2ProxyIpv6WithTheSslTlv() {
        ByteBuf header = ProxyProtocolV2.encode(
                PooledByteBufAllocator.DEFAULT,
                new InetSocketAddress("2001:db8::7", 51000),
                new InetSocketAddress("2001:db8::1", 993),
                "TLSv1.3",
                "TLS_AES_128_GCM_SHA256");
        ProxyHeader h = parsed(bytes(header));
        assertThat(h.source()).isEqualTo(new InetSocketAddress("2001:db8::7", 51000));
        assertThat(h.destination()).isEqualTo(new InetSocketAddress("2001:db8::1", 993));
        assertThat(h.tls()).isEqualTo(new ProxyHeader.Tls(1, true, "TLSv1.3", "TLS_AES_128_GCM_SHA256", null));
        assertThat(h.tls().clientSsl()).isTrue();
    }

    @Test
    void v2SslTlvWithEverySubTlvAndOtherTlvsAround() {
        byte[] ssl = concat(
                new byte[] {0x07, 0, 0, 0, 1}, // TLS, certificate on connection and session; verify failed
                tlv(0x21, ascii("TLSv1.2")),
                tlv(0x22, "Älice".getBytes(StandardCharsets.UTF_8)),
                tlv(0x23, ascii("ECDHE-RSA-AES128-GCM-SHA256")),
                tlv(0x24, ascii("SHA256")),
                tlv(0x25, ascii("RSA2048")));
        byte[] header = v2(
                0x21,
                0x11,
                concat(
                        ipv4Block(),
                        tlv(0x01, ascii("imap")),
                        tlv(0x20, ssl),
                        tlv(0x05, ascii("unique-id")),
                        tlv(0x04, new byte[7])));
        ProxyHeader h = parsed(header);
        assertThat(h.source()).isEqualTo(new InetSocketAddress("192.0.2.7", 51000));
        assertThat(h.tls()).isEqualTo(new ProxyHeader.Tls(7, false, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "Älice"));
    }

    @Test
    void v2WithACorrectCrc32cIsReadAndAWrongOneRefused() {
        byte[] header = v2(0x21, 0x11, concat(ipv4Block(), tlv(0x03, new byte[4])));
        CRC32C crc = new CRC32C();
        crc.update(header);
        int value = (int) crc.getValue();
        byte[] good = header.clone();
        ByteBuffer.wrap(good).putInt(good.length - 4, value);
        assertThat(parsed(good).source()).isEqualTo(new InetSocketAddress("192.0.2.7", 51000));

        byte[] bad = header.clone();
        ByteBuffer.wrap(bad).putInt(bad.length - 4, value ^ 1);
        assertThat(malformed(bad)).isEqualTo("v2 CRC32C does not match");
        assertThat(malformed(v2(0x21, 0x11, concat(ipv4Block(), tlv(0x03, new byte[3])))))
                .isEqualTo("v2 CRC32C TLV is not 4 bytes");
    }

    @Test
    void v2LocalKeepsTheConnectionsAddressesWhateverTheBlockSays() {
        assertThat(parsed(v2(0x20, 0x00, new byte[0])).hasAddresses()).isFalse();
        assertThat(parsed(v2(0x20, 0x11, ipv4Block())).hasAddresses()).isFalse();
        // the family is ignored for LOCAL, even one that is not defined
        assertThat(parsed(v2(0x20, 0x77, new byte[3])).hasAddresses()).isFalse();
    }

    @Test
    void v2ProxyWithoutAUsableAddressKeepsTheConnectionsAddresses() {
        assertThat(parsed(v2(0x21, 0x00, new byte[0])).hasAddresses()).isFalse();
        assertThat(parsed(v2(0x21, 0x00, tlv(0x04, new byte[2]))).hasAddresses())
                .isFalse();
        assertThat(parsed(v2(0x21, 0x31, new byte[216])).hasAddresses())
                .as("AF_UNIX")
                .isFalse();
    }

    @Test
    void v2HeadersFromNettysEncoderAreRead() {
        HAProxyMessage v2 = new HAProxyMessage(
                HAProxyProtocolVersion.V2,
                HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP6,
                "2001:db8::7",
                "2001:db8::1",
                51000,
                993,
                List.of(new HAProxyTLV(HAProxyTLV.Type.PP2_TYPE_AUTHORITY, Unpooled.copiedBuffer(ascii("mail.test")))));
        HAProxyMessage v1 = new HAProxyMessage(
                HAProxyProtocolVersion.V1,
                HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP4,
                "192.0.2.7",
                "198.51.100.1",
                51000,
                993);
        assertThat(parsed(encodeWithNetty(v2)).source()).isEqualTo(new InetSocketAddress("2001:db8::7", 51000));
        assertThat(parsed(encodeWithNetty(v1)).source()).isEqualTo(new InetSocketAddress("192.0.2.7", 51000));
    }

    private static byte[] encodeWithNetty(HAProxyMessage message) {
        EmbeddedChannel ch = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        ch.writeOutbound(message);
        ByteBuf out = ch.readOutbound();
        ch.finishAndReleaseAll();
        return bytes(out);
    }

    @Test
    void v2BrokenHeadersAreRefused() {
        assertThat(malformed(v2(0x31, 0x11, ipv4Block()))).isEqualTo("v2 version 3 is not 2");
        assertThat(malformed(v2(0x11, 0x11, ipv4Block()))).isEqualTo("v2 version 1 is not 2");
        assertThat(malformed(v2(0x22, 0x11, ipv4Block()))).isEqualTo("v2 command 2 is neither LOCAL nor PROXY");
        assertThat(malformed(v2(0x21, 0x41, ipv4Block()))).isEqualTo("v2 address family/transport 0x41 is not defined");
        assertThat(malformed(v2(0x21, 0x13, ipv4Block()))).isEqualTo("v2 address family/transport 0x13 is not defined");
        assertThat(malformed(v2(0x21, 0x12, ipv4Block()))).isEqualTo("v2 transport is datagram, not stream");
        assertThat(malformed(v2(0x21, 0x11, new byte[8]))).isEqualTo("v2 length 8 is shorter than its address block");
        assertThat(malformed(v2(0x21, 0x21, new byte[35]))).isEqualTo("v2 length 35 is shorter than its address block");
    }

    @Test
    void v2TlvsMustFitTheHeader() {
        assertThat(malformed(v2(0x21, 0x11, concat(ipv4Block(), new byte[] {0x04, 0}))))
                .isEqualTo("v2 TLV header overruns the header");
        assertThat(malformed(v2(0x21, 0x11, concat(ipv4Block(), new byte[] {0x04, 0, 5, 0, 0}))))
                .isEqualTo("v2 TLV of type 4 overruns the header");
        assertThat(malformed(v2(0x21, 0x11, concat(ipv4Block(), tlv(0x20, new byte[] {1, 0, 0, 0})))))
                .isEqualTo("v2 SSL TLV is shorter than 5 bytes");
        assertThat(malformed(
                        v2(0x21, 0x11, concat(ipv4Block(), tlv(0x20, new byte[] {1, 0, 0, 0, 0, 0x21, 0, 9, 'T'})))))
                .isEqualTo("v2 SSL sub-TLV of type 33 overruns the SSL TLV");
        assertThat(malformed(v2(0x21, 0x11, concat(ipv4Block(), tlv(0x20, new byte[] {1, 0, 0, 0, 0, 0x21})))))
                .isEqualTo("v2 SSL sub-TLV header overruns the SSL TLV");
        assertThat(malformed(v2(
                        0x21,
                        0x11,
                        concat(ipv4Block(), tlv(0x20, concat(new byte[] {1, 0, 0, 0, 0}, tlv(0x21, new byte[] {7})))))))
                .isEqualTo("v2 SSL version is not printable ASCII");
    }

    @Test
    void v2LengthOverTheBoundIsRefusedBeforeTheBodyArrives() {
        byte[] fixed = v2(0x21, 0x11, new byte[0]);
        ByteBuffer.wrap(fixed).putShort(14, (short) (ProxyHeaderParser.V2_MAX_LENGTH - 16 + 1));
        assertThat(malformed(fixed)).isEqualTo("v2 header of 4097 bytes is over 4096");
        ByteBuffer.wrap(fixed).putShort(14, (short) 0xffff);
        assertThat(malformed(fixed)).isEqualTo("v2 header of 65551 bytes is over 4096");

        byte[] largest = v2(0x21, 0x11, concat(ipv4Block(), tlv(0x04, new byte[4096 - 16 - 12 - 3])));
        assertThat(largest).hasSize(ProxyHeaderParser.V2_MAX_LENGTH);
        assertThat(parsed(largest).hasAddresses()).isTrue();
    }

    // ---- no header

    @Test
    void bytesWithoutEitherSignatureAreTheClientsOwn() {
        for (byte[] bytes : List.of(
                ascii("a1 CAPABILITY\r\n"),
                ascii("PROXX TCP4\r\n"),
                ascii("proxy TCP4 192.0.2.7 198.51.100.1 1 2\r\n"),
                new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01},
                ascii("\r\n\r\nQUIT\r\n"),
                ascii("EHLO x\r\n"))) {
            assertThat(everySplit(bytes)).isInstanceOf(ProxyHeaderParser.Absent.class);
        }
        assertThat(parse(new byte[0], 0)).isInstanceOf(ProxyHeaderParser.Incomplete.class);
        assertThat(parse(ascii("PROX"), 4)).isInstanceOf(ProxyHeaderParser.Incomplete.class);
        assertThat(parse(SIGNATURE, 11)).isInstanceOf(ProxyHeaderParser.Incomplete.class);
    }

    @Test
    void anyBytesAfterEitherSignatureGiveAnAnswerAndNeverAnException() {
        // a seeded fuzz pass: headers with random families, lengths, TLVs and garbage, each at every split
        Random random = new Random(20240601);
        for (int i = 0; i < 3000; i++) {
            byte[] body = new byte[random.nextInt(80)];
            random.nextBytes(body);
            byte[] input;
            if (random.nextBoolean()) {
                String[] starts = {"PROXY TCP4 ", "PROXY TCP6 ", "PROXY UNKNOWN", "PROXY "};
                input = concat(ascii(starts[random.nextInt(starts.length)]), body);
            } else {
                int[] commands = {0x20, 0x21, 0x21, 0x21, 0x22, 0x11, 0x31};
                int[] families = {0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32, 0x41, 0xff};
                input = v2(commands[random.nextInt(commands.length)], families[random.nextInt(families.length)], body);
                if (random.nextInt(4) == 0) {
                    ByteBuffer.wrap(input).putShort(14, (short) random.nextInt(0x10000));
                }
            }
            ProxyHeaderParser.Result r = everySplit(input);
            assertThat(r).isNotNull();
            if (r instanceof ProxyHeaderParser.Parsed p) {
                assertThat(p.length()).isBetween(8, input.length);
            }
        }
    }

    @Test
    void theSignatureIsToldFromAtMostTwelveBytes() {
        assertThat(ProxyHeaderParser.signature(Unpooled.wrappedBuffer(ascii("PROXY "))))
                .isEqualTo(ProxyHeaderParser.Signature.V1);
        assertThat(ProxyHeaderParser.signature(Unpooled.wrappedBuffer(ascii("PROXY"))))
                .isEqualTo(ProxyHeaderParser.Signature.UNDECIDED);
        assertThat(ProxyHeaderParser.signature(Unpooled.wrappedBuffer(SIGNATURE)))
                .isEqualTo(ProxyHeaderParser.Signature.V2);
        assertThat(ProxyHeaderParser.signature(Unpooled.wrappedBuffer(SIGNATURE, 0, 11)))
                .isEqualTo(ProxyHeaderParser.Signature.UNDECIDED);
        assertThat(ProxyHeaderParser.signature(Unpooled.wrappedBuffer(ascii("a"))))
                .isEqualTo(ProxyHeaderParser.Signature.NONE);
    }
}
