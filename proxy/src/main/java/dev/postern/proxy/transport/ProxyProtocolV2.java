package dev.postern.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Encodes a PROXY protocol version 2 header (haproxy's proxy-protocol.txt, section 2.2), which Dovecot
 * ({@code haproxy = yes}) and Postfix ({@code smtpd_upstream_proxy_protocol = haproxy}) read to learn the client's
 * real address. When the client connection used TLS, a {@code PP2_TYPE_SSL} TLV says so, with the version and
 * cipher.
 */
public final class ProxyProtocolV2 {
    // package-private: ProxyHeaderParser reads what this class writes (never modify SIGNATURE)
    static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    static final int VERSION_PROXY = 0x21;
    static final int VERSION_LOCAL = 0x20;
    static final int TCP4 = 0x11;
    static final int TCP6 = 0x21;
    static final int UNSPEC = 0x00;
    static final int PP2_TYPE_SSL = 0x20;
    static final int PP2_SUBTYPE_SSL_VERSION = 0x21;
    static final int PP2_SUBTYPE_SSL_CIPHER = 0x23;
    static final int PP2_CLIENT_SSL = 0x01;

    private ProxyProtocolV2() {}

    /**
     * The header for a connection from {@code source} to {@code destination}.
     *
     * @param tlsVersion the client's TLS version, or null for a plain connection
     * @param tlsCipher the client's cipher suite, or null
     */
    public static ByteBuf encode(
            ByteBufAllocator alloc,
            InetSocketAddress source,
            InetSocketAddress destination,
            String tlsVersion,
            String tlsCipher) {
        ByteBuf out = alloc.buffer(128);
        out.writeBytes(SIGNATURE);
        if (source == null || destination == null || source.getAddress() == null || destination.getAddress() == null) {
            // no usable addresses: a LOCAL header tells the backend to use the connection's own
            out.writeByte(VERSION_LOCAL).writeByte(UNSPEC).writeShort(0);
            return out;
        }
        InetAddress src = source.getAddress();
        InetAddress dst = destination.getAddress();
        byte[] srcBytes;
        byte[] dstBytes;
        int family;
        byte[] src4 = ipv4(src);
        byte[] dst4 = ipv4(dst);
        if (src4 != null && dst4 != null) {
            family = TCP4;
            srcBytes = src4;
            dstBytes = dst4;
        } else {
            family = TCP6;
            srcBytes = ipv6(src);
            dstBytes = ipv6(dst);
        }
        out.writeByte(VERSION_PROXY).writeByte(family);
        int lengthIndex = out.writerIndex();
        out.writeShort(0);
        int start = out.writerIndex();
        out.writeBytes(srcBytes).writeBytes(dstBytes);
        out.writeShort(source.getPort()).writeShort(destination.getPort());
        if (tlsVersion != null) {
            writeSslTlv(out, tlsVersion, tlsCipher);
        }
        out.setShort(lengthIndex, out.writerIndex() - start);
        return out;
    }

    private static void writeSslTlv(ByteBuf out, String version, String cipher) {
        byte[] v = version.getBytes(StandardCharsets.US_ASCII);
        byte[] c = cipher == null ? new byte[0] : cipher.getBytes(StandardCharsets.US_ASCII);
        int length = 1 + 4 + 3 + v.length + (c.length > 0 ? 3 + c.length : 0);
        out.writeByte(PP2_TYPE_SSL).writeShort(length);
        out.writeByte(PP2_CLIENT_SSL);
        out.writeInt(0); // verify: 0 = client certificate verified or not requested
        out.writeByte(PP2_SUBTYPE_SSL_VERSION).writeShort(v.length).writeBytes(v);
        if (c.length > 0) {
            out.writeByte(PP2_SUBTYPE_SSL_CIPHER).writeShort(c.length).writeBytes(c);
        }
    }

    /** The 4 bytes of an IPv4 or IPv4-mapped IPv6 address, else null. */
    private static byte[] ipv4(InetAddress address) {
        if (address instanceof Inet4Address) {
            return address.getAddress();
        }
        byte[] b = address.getAddress();
        if (b.length == 16) {
            for (int i = 0; i < 10; i++) {
                if (b[i] != 0) {
                    return null;
                }
            }
            if (b[10] == (byte) 0xff && b[11] == (byte) 0xff) {
                return new byte[] {b[12], b[13], b[14], b[15]};
            }
        }
        return null;
    }

    private static byte[] ipv6(InetAddress address) {
        if (address instanceof Inet6Address) {
            return address.getAddress();
        }
        byte[] v4 = address.getAddress();
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(v4, 0, mapped, 12, 4);
        return mapped;
    }
}
