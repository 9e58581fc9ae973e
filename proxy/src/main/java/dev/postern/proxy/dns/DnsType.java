package dev.postern.proxy.dns;

import io.netty.handler.codec.dns.DnsRecordType;
import java.net.InetAddress;

/**
 * A kind of DNS record that {@link DnsClient} looks up, and what an answer holds.
 *
 * @param <T> one answer record, decoded
 */
public final class DnsType<T> {
    /** IPv4 addresses. */
    public static final DnsType<InetAddress> A = new DnsType<>("A", DnsRecordType.A);
    /** IPv6 addresses. */
    public static final DnsType<InetAddress> AAAA = new DnsType<>("AAAA", DnsRecordType.AAAA);
    /** Text records, each one's strings joined without spaces (RFC 7208 section 3.3). */
    public static final DnsType<String> TXT = new DnsType<>("TXT", DnsRecordType.TXT);
    /** Mail exchangers. */
    public static final DnsType<MxRecord> MX = new DnsType<>("MX", DnsRecordType.MX);
    /** Host names of a reverse ({@code in-addr.arpa}, {@code ip6.arpa}) name. */
    public static final DnsType<String> PTR = new DnsType<>("PTR", DnsRecordType.PTR);

    private final String name;
    private final DnsRecordType recordType;

    private DnsType(String name, DnsRecordType recordType) {
        this.name = name;
        this.recordType = recordType;
    }

    DnsRecordType recordType() {
        return recordType;
    }

    @Override
    public String toString() {
        return name;
    }
}
