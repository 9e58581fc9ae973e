package dev.postern.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DefaultDnsResponse;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** How a DNS response becomes an answer, on hand-built responses. */
class DnsDecodeTest {

    private static ByteBuf name(String name) {
        ByteBuf out = Unpooled.buffer();
        for (String label : name.split("\\.")) {
            out.writeByte(label.length()).writeCharSequence(label, StandardCharsets.US_ASCII);
        }
        return out.writeByte(0);
    }

    private static ByteBuf soa(long minimum) {
        return name("ns.example.test")
                .writeBytes(name("hostmaster.example.test"))
                .writeInt(1)
                .writeInt(3600)
                .writeInt(600)
                .writeInt(86400)
                .writeInt((int) minimum);
    }

    private static DnsResponse response(DnsResponseCode code) {
        return new DefaultDnsResponse(1, io.netty.handler.codec.dns.DnsOpCode.QUERY, code);
    }

    @Test
    void followsACnameChainInAnyOrderAndTakesTheSmallestTtl() throws Exception {
        DnsResponse r = response(DnsResponseCode.NOERROR);
        try {
            r.addRecord(
                    DnsSection.ANSWER,
                    new DefaultDnsRawRecord(
                            "target.example.test.", DnsRecordType.A, 300, Unpooled.wrappedBuffer(new byte[] {
                                (byte) 192, 0, 2, 7
                            })));
            r.addRecord(
                    DnsSection.ANSWER,
                    new DefaultDnsRawRecord(
                            "alias.example.test.", DnsRecordType.CNAME, 60, name("middle.example.test")));
            r.addRecord(
                    DnsSection.ANSWER,
                    new DefaultDnsRawRecord(
                            "Middle.Example.Test.", DnsRecordType.CNAME, 120, name("target.example.test")));
            r.addRecord(
                    DnsSection.ANSWER,
                    new DefaultDnsRawRecord(
                            "unrelated.example.test.", DnsRecordType.A, 5, Unpooled.wrappedBuffer(new byte[] {
                                10, 0, 0, 1
                            })));

            DnsAnswer<InetAddress> answer = NettyDnsClient.decode("alias.example.test", DnsType.A, r);

            assertThat(answer)
                    .isEqualTo(new DnsAnswer.Found<>(java.util.List.of(InetAddress.getByName("192.0.2.7")), 60));
        } finally {
            r.release();
        }
    }

    @Test
    void anAbsenceIsCachedForTheSmallerOfTheSoaTtlAndItsMinimum() {
        DnsResponse nx = response(DnsResponseCode.NXDOMAIN);
        DnsResponse nodata = response(DnsResponseCode.NOERROR);
        try {
            nx.addRecord(
                    DnsSection.AUTHORITY, new DefaultDnsRawRecord("example.test.", DnsRecordType.SOA, 900, soa(300)));
            nodata.addRecord(
                    DnsSection.AUTHORITY, new DefaultDnsRawRecord("example.test.", DnsRecordType.SOA, 120, soa(300)));

            assertThat(NettyDnsClient.decode("x.example.test", DnsType.TXT, nx))
                    .isEqualTo(new DnsAnswer.NoRecords<>(true, 300));
            assertThat(NettyDnsClient.decode("x.example.test", DnsType.TXT, nodata))
                    .isEqualTo(new DnsAnswer.NoRecords<>(false, 120));
        } finally {
            nx.release();
            nodata.release();
        }
    }

    @Test
    void serverErrorsAreFailuresByName() {
        for (Object[] c : new Object[][] {
            {DnsResponseCode.SERVFAIL, "SERVFAIL"},
            {DnsResponseCode.REFUSED, "REFUSED"},
            {DnsResponseCode.FORMERR, "FORMERR"},
            {DnsResponseCode.NOTIMP, "NOTIMP"},
            {DnsResponseCode.BADVERS_OR_BADSIG, "RCODE 16"}
        }) {
            DnsResponse r = response((DnsResponseCode) c[0]);
            try {
                assertThat(NettyDnsClient.decode("x.example.test", DnsType.A, r))
                        .isEqualTo(new DnsAnswer.Failed<>((String) c[1]));
            } finally {
                r.release();
            }
        }
    }

    @Test
    void aTruncatedAnswerIsAFailure() {
        DnsResponse r = response(DnsResponseCode.NOERROR).setTruncated(true);
        try {
            assertThat(NettyDnsClient.decode("x.example.test", DnsType.TXT, r))
                    .isEqualTo(new DnsAnswer.Failed<>("truncated"));
        } finally {
            r.release();
        }
    }

    @Test
    void malformedRecordDataIsSkipped() {
        DnsResponse r = response(DnsResponseCode.NOERROR);
        try {
            r.addRecord(
                    DnsSection.ANSWER,
                    new DefaultDnsRawRecord(
                            "x.example.test.", DnsRecordType.A, 60, Unpooled.wrappedBuffer(new byte[3])));

            assertThat(NettyDnsClient.decode("x.example.test", DnsType.A, r))
                    .isEqualTo(new DnsAnswer.NoRecords<>(false, 0));
        } finally {
            r.release();
        }
    }
}
