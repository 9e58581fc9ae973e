package dev.postern.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.dns.DatagramDnsResponseDecoder;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Fuzzes what Postern makes of a DNS response (a resolver's, or a spoofer's): the datagram goes through Netty's DNS
 * decoder, as in {@link NettyDnsClient}, then {@link NettyDnsClient#decode} for every record type Postern asks for,
 * under the question's name and a fixed one. Properties: an answer is always given (records, none, or a failure) and
 * nothing throws; found records are non-empty with a TTL that fits 32 bits; an MX preference fits 16 bits; every
 * buffer is released. The seed corpus is in {@code DnsResponseFuzzTestInputs/}.
 */
class DnsResponseFuzzTest {
    private static final InetSocketAddress RESOLVER = new InetSocketAddress("127.0.0.1", 53);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 40000);
    private static final List<DnsType<?>> TYPES =
            List.of(DnsType.A, DnsType.AAAA, DnsType.TXT, DnsType.MX, DnsType.PTR);

    @FuzzTest
    void everyResponseBecomesAnAnswer(byte[] input) {
        EmbeddedChannel ch = new EmbeddedChannel(new DatagramDnsResponseDecoder());
        try {
            ch.writeInbound(new DatagramPacket(Unpooled.wrappedBuffer(input), LOCAL, RESOLVER));
        } catch (DecoderException | IndexOutOfBoundsException e) {
            // Netty refused the datagram: the resolver drops it, Postern never sees it
            ch.finishAndReleaseAll();
            return;
        }
        DnsResponse response = ch.readInbound();
        try {
            if (response == null) {
                return;
            }
            String question = response.count(DnsSection.QUESTION) > 0
                    ? response.recordAt(DnsSection.QUESTION).name()
                    : "example.test.";
            for (String name : List.of(question, "example.test")) {
                String normalized = DnsNames.normalize(name);
                for (DnsType<?> type : TYPES) {
                    check(NettyDnsClient.decode(normalized == null ? name : normalized, type, response));
                }
            }
        } finally {
            if (response != null) {
                response.release();
            }
            ch.finishAndReleaseAll();
        }
    }

    private static void check(DnsAnswer<?> answer) {
        assertThat(answer).isNotNull();
        if (answer instanceof DnsAnswer.Found<?> found) {
            assertThat(found.values()).isNotEmpty().doesNotContainNull();
            assertThat(found.ttlSeconds()).isBetween(0L, 0xffffffffL);
            for (Object v : found.values()) {
                if (v instanceof MxRecord mx) {
                    assertThat(mx.preference()).isBetween(0, 65535);
                    assertThat(mx.host()).isNotNull();
                }
            }
        } else if (answer instanceof DnsAnswer.NoRecords<?> none) {
            assertThat(none.ttlSeconds()).isBetween(0L, 0xffffffffL);
        } else {
            assertThat(((DnsAnswer.Failed<?>) answer).reason()).isNotEmpty();
        }
    }
}
