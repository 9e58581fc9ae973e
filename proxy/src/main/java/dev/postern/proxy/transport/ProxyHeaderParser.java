package dev.postern.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Reads a PROXY protocol header (haproxy's proxy-protocol.txt: the v1 text line, section 2.1, and the v2 binary
 * block, section 2.2) from the start of a buffer, without moving its reader index. Pure: bytes in, a {@link Result}
 * out, so every input can be tested whole and split at every byte.
 *
 * <p>The bounds are the first defence: a v1 line is at most {@value #V1_MAX_LINE} bytes with its CRLF (the spec's
 * own limit), a v2 header at most {@value #V2_MAX_LENGTH} bytes, far below the 16 + 65535 its length field allows but
 * far above what any balancer sends (addresses and a few TLVs: a few hundred bytes). A reason in a {@link Malformed}
 * never repeats the client's bytes: it goes into logs.
 */
public final class ProxyHeaderParser {
    /** The longest v1 line, CRLF included. */
    public static final int V1_MAX_LINE = 107;
    /** The longest v2 header accepted, the 16 fixed bytes included. */
    public static final int V2_MAX_LENGTH = 4096;

    private static final byte[] V1_SIGNATURE = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] V2_SIGNATURE = ProxyProtocolV2.SIGNATURE;
    private static final int V2_FIXED = 16;

    private static final int PP2_TYPE_CRC32C = 0x03;
    private static final int PP2_SUBTYPE_SSL_CN = 0x22;

    /** Incomplete, not a header, a header, or a broken one. */
    public sealed interface Result permits Incomplete, Absent, Parsed, Malformed {}

    /** More bytes are needed to decide. */
    public record Incomplete() implements Result {}

    /** The bytes do not start with either signature: no header, the bytes are the client's own. */
    public record Absent() implements Result {}

    /** A header of {@code length} bytes; the client's own bytes follow it. */
    public record Parsed(ProxyHeader header, int length) implements Result {}

    /** The bytes start with a signature but are no valid header; {@code reason} is fit for a log line. */
    public record Malformed(String reason) implements Result {}

    /** Which header a buffer's first bytes announce. */
    public enum Signature {
        /** Not enough bytes to tell. */
        UNDECIDED,
        /** Neither signature. */
        NONE,
        V1,
        V2
    }

    private static final Incomplete INCOMPLETE = new Incomplete();
    private static final Absent ABSENT = new Absent();

    private ProxyHeaderParser() {}

    /** Which signature {@code in} starts with, looking at no more than its 12 first bytes. */
    public static Signature signature(ByteBuf in) {
        int n = in.readableBytes();
        if (n == 0) {
            return Signature.UNDECIDED;
        }
        byte[] expected = in.getByte(in.readerIndex()) == V1_SIGNATURE[0] ? V1_SIGNATURE : V2_SIGNATURE;
        int compare = Math.min(n, expected.length);
        for (int i = 0; i < compare; i++) {
            if (in.getByte(in.readerIndex() + i) != expected[i]) {
                return Signature.NONE;
            }
        }
        if (compare < expected.length) {
            return Signature.UNDECIDED;
        }
        return expected == V1_SIGNATURE ? Signature.V1 : Signature.V2;
    }

    /** Reads the header at the start of {@code in}; the reader index does not move. */
    public static Result parse(ByteBuf in) {
        return switch (signature(in)) {
            case UNDECIDED -> INCOMPLETE;
            case NONE -> ABSENT;
            case V1 -> v1(in);
            case V2 -> v2(in);
        };
    }

    // ---- v1: "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n"

    private static Result v1(ByteBuf in) {
        int start = in.readerIndex();
        int scan = Math.min(in.readableBytes(), V1_MAX_LINE);
        int lf = in.indexOf(start, start + scan, (byte) '\n');
        if (lf < 0) {
            return scan == V1_MAX_LINE ? new Malformed("v1 line longer than " + V1_MAX_LINE + " bytes") : INCOMPLETE;
        }
        int length = lf - start + 1;
        if (length < V1_SIGNATURE.length + 2 || in.getByte(lf - 1) != '\r') {
            return new Malformed("v1 line does not end in CRLF");
        }
        int from = start + V1_SIGNATURE.length;
        int to = lf - 1;
        for (int i = from; i < to; i++) {
            byte b = in.getByte(i);
            if (b < 0x20 || b > 0x7e) {
                return new Malformed("v1 line has a byte that is not printable ASCII");
            }
        }
        String[] fields =
                in.toString(from, to - from, StandardCharsets.US_ASCII).split(" ", -1);
        String protocol = fields[0];
        if (protocol.equals("UNKNOWN")) {
            // the spec: the receiver ignores whatever follows UNKNOWN and uses the connection's own addresses
            return new Parsed(new ProxyHeader(1, null, null, null), length);
        }
        boolean v4 = protocol.equals("TCP4");
        if (!v4 && !protocol.equals("TCP6")) {
            return new Malformed("v1 protocol is not TCP4, TCP6 or UNKNOWN");
        }
        if (fields.length != 5) {
            return new Malformed("v1 " + protocol + " needs 4 fields separated by single spaces");
        }
        InetAddress source = v1Address(fields[1], v4);
        InetAddress destination = v1Address(fields[2], v4);
        if (source == null || destination == null) {
            return new Malformed("v1 address is not an " + (v4 ? "IPv4" : "IPv6") + " literal");
        }
        int sourcePort = v1Port(fields[3]);
        int destinationPort = v1Port(fields[4]);
        if (sourcePort < 0 || destinationPort < 0) {
            return new Malformed("v1 port is not a number from 0 to 65535");
        }
        return new Parsed(
                new ProxyHeader(
                        1,
                        new InetSocketAddress(source, sourcePort),
                        new InetSocketAddress(destination, destinationPort),
                        null),
                length);
    }

    private static InetAddress v1Address(String text, boolean v4) {
        boolean valid = v4
                ? NetUtil.isValidIpV4Address(text)
                : text.indexOf('%') < 0 && text.indexOf('[') < 0 && NetUtil.isValidIpV6Address(text);
        if (!valid) {
            return null;
        }
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(text);
        return bytes == null ? null : address(bytes);
    }

    private static int v1Port(String text) {
        if (text.isEmpty() || text.length() > 5) {
            return -1;
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return -1;
            }
        }
        int port = Integer.parseInt(text);
        return port <= 65535 ? port : -1;
    }

    // ---- v2: signature, version/command, family/transport, length, addresses, TLVs

    private static Result v2(ByteBuf in) {
        if (in.readableBytes() < V2_FIXED) {
            return INCOMPLETE;
        }
        int start = in.readerIndex();
        int versionCommand = in.getUnsignedByte(start + 12);
        int familyTransport = in.getUnsignedByte(start + 13);
        int length = V2_FIXED + in.getUnsignedShort(start + 14);
        if (versionCommand >> 4 != 2) {
            return new Malformed("v2 version " + (versionCommand >> 4) + " is not 2");
        }
        int command = versionCommand & 0x0f;
        if (command > 1) {
            return new Malformed("v2 command " + command + " is neither LOCAL nor PROXY");
        }
        if (length > V2_MAX_LENGTH) {
            return new Malformed("v2 header of " + length + " bytes is over " + V2_MAX_LENGTH);
        }
        if (in.readableBytes() < length) {
            return INCOMPLETE;
        }
        if (command == 0) {
            // LOCAL (the balancer's own connection, a health check): the spec says to use the connection's own
            // addresses and discard the block, family included
            return new Parsed(new ProxyHeader(2, null, null, null), length);
        }
        int addressLength;
        switch (familyTransport) {
            case ProxyProtocolV2.UNSPEC -> addressLength = 0;
            case ProxyProtocolV2.TCP4 -> addressLength = 12;
            case ProxyProtocolV2.TCP6 -> addressLength = 36;
            case 0x31 -> addressLength = 216; // AF_UNIX stream: no address Postern can use
            case 0x12, 0x22, 0x32 -> {
                return new Malformed("v2 transport is datagram, not stream");
            }
            default -> {
                return new Malformed(
                        String.format("v2 address family/transport 0x%02x is not defined", familyTransport));
            }
        }
        if (length - V2_FIXED < addressLength) {
            return new Malformed("v2 length " + (length - V2_FIXED) + " is shorter than its address block");
        }
        InetSocketAddress source = null;
        InetSocketAddress destination = null;
        int a = start + V2_FIXED;
        if (familyTransport == ProxyProtocolV2.TCP4 || familyTransport == ProxyProtocolV2.TCP6) {
            int size = familyTransport == ProxyProtocolV2.TCP4 ? 4 : 16;
            byte[] src = new byte[size];
            byte[] dst = new byte[size];
            in.getBytes(a, src);
            in.getBytes(a + size, dst);
            source = new InetSocketAddress(address(src), in.getUnsignedShort(a + 2 * size));
            destination = new InetSocketAddress(address(dst), in.getUnsignedShort(a + 2 * size + 2));
        }
        Tlvs tlvs = new Tlvs();
        String bad = tlvs.read(in, a + addressLength, start + length);
        if (bad == null && tlvs.crcAt >= 0 && !crcMatches(in, start, length, tlvs.crcAt)) {
            bad = "v2 CRC32C does not match";
        }
        if (bad != null) {
            return new Malformed(bad);
        }
        return new Parsed(new ProxyHeader(2, source, destination, tlvs.tls), length);
    }

    /** What the TLVs of one v2 header say. */
    private static final class Tlvs {
        ProxyHeader.Tls tls;
        /** Where the CRC32C value is, or -1. */
        int crcAt = -1;

        /** Reads the TLVs in {@code [from, to)}; a reason when they are broken, else null. */
        String read(ByteBuf in, int from, int to) {
            int i = from;
            while (i < to) {
                if (to - i < 3) {
                    return "v2 TLV header overruns the header";
                }
                int type = in.getUnsignedByte(i);
                int length = in.getUnsignedShort(i + 1);
                int value = i + 3;
                if (value + length > to) {
                    return "v2 TLV of type " + type + " overruns the header";
                }
                if (type == PP2_TYPE_CRC32C) {
                    if (length != 4) {
                        return "v2 CRC32C TLV is not 4 bytes";
                    }
                    crcAt = value;
                } else if (type == ProxyProtocolV2.PP2_TYPE_SSL) {
                    String bad = ssl(in, value, value + length);
                    if (bad != null) {
                        return bad;
                    }
                }
                i = value + length;
            }
            return null;
        }

        private String ssl(ByteBuf in, int from, int to) {
            if (to - from < 5) {
                return "v2 SSL TLV is shorter than 5 bytes";
            }
            int client = in.getUnsignedByte(from);
            boolean verified = in.getInt(from + 1) == 0;
            String version = null;
            String cipher = null;
            String commonName = null;
            int i = from + 5;
            while (i < to) {
                if (to - i < 3) {
                    return "v2 SSL sub-TLV header overruns the SSL TLV";
                }
                int type = in.getUnsignedByte(i);
                int length = in.getUnsignedShort(i + 1);
                int value = i + 3;
                if (value + length > to) {
                    return "v2 SSL sub-TLV of type " + type + " overruns the SSL TLV";
                }
                if (type == ProxyProtocolV2.PP2_SUBTYPE_SSL_VERSION || type == ProxyProtocolV2.PP2_SUBTYPE_SSL_CIPHER) {
                    String text = printable(in, value, length);
                    if (text == null) {
                        return "v2 SSL " + (type == ProxyProtocolV2.PP2_SUBTYPE_SSL_VERSION ? "version" : "cipher")
                                + " is not printable ASCII";
                    }
                    if (type == ProxyProtocolV2.PP2_SUBTYPE_SSL_VERSION) {
                        version = text;
                    } else {
                        cipher = text;
                    }
                } else if (type == PP2_SUBTYPE_SSL_CN) {
                    commonName = in.toString(value, length, StandardCharsets.UTF_8);
                }
                i = value + length;
            }
            tls = new ProxyHeader.Tls(client, verified, version, cipher, commonName);
            return null;
        }
    }

    private static String printable(ByteBuf in, int from, int length) {
        for (int i = from; i < from + length; i++) {
            byte b = in.getByte(i);
            if (b < 0x20 || b > 0x7e) {
                return null;
            }
        }
        return in.toString(from, length, StandardCharsets.US_ASCII);
    }

    /** The CRC32C of the whole header, its own value counted as zeros, against the value the header carries. */
    private static boolean crcMatches(ByteBuf in, int start, int length, int crcAt) {
        CRC32C crc = new CRC32C();
        byte[] header = new byte[length];
        in.getBytes(start, header);
        int at = crcAt - start;
        for (int i = 0; i < 4; i++) {
            header[at + i] = 0;
        }
        crc.update(header);
        return (int) crc.getValue() == in.getInt(crcAt);
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes); // no lookup: the bytes are the address
        } catch (UnknownHostException e) {
            throw new IllegalStateException("an address of " + bytes.length + " bytes", e);
        }
    }
}
