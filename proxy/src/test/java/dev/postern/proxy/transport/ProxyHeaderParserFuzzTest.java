package dev.postern.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.Arrays;

/**
 * Fuzzes the inbound PROXY v1/v2 header parser with what a balancer (or anyone who reaches the port) may send first.
 * Properties: nothing but the parser's own results; the reader index stays; a header parsed is within the input and
 * the bounds; a prefix of the input is either incomplete or decided the same as the whole (so the bytes of a header
 * split across TCP segments make no difference); a parsed header written out again by Postern's own encoder (as for a
 * backend) parses to the same addresses. The seed corpus is in {@code ProxyHeaderParserFuzzTestInputs/}.
 */
class ProxyHeaderParserFuzzTest {

    @FuzzTest
    void decidesOnceAndTheSameAtEveryPrefix(byte[] input) {
        ProxyHeaderParser.Result whole = parse(input, input.length);
        if (whole instanceof ProxyHeaderParser.Parsed p) {
            assertThat(p.length()).isBetween(1, Math.min(input.length, 16 + ProxyHeaderParser.V2_MAX_LENGTH));
            assertThat(p.header().version()).isIn(1, 2);
            if (p.header().hasAddresses()) {
                assertReencodes(p.header());
            }
        }
        int step = Math.max(1, input.length / 64);
        for (int k = 0; k < input.length; k += step) {
            ProxyHeaderParser.Result prefix = parse(input, k);
            if (prefix instanceof ProxyHeaderParser.Incomplete) {
                continue;
            }
            if (prefix instanceof ProxyHeaderParser.Malformed) {
                assertThat(whole).as("prefix of %d bytes", k).isInstanceOf(ProxyHeaderParser.Malformed.class);
            } else {
                assertThat(whole).as("prefix of %d bytes", k).isEqualTo(prefix);
            }
        }
    }

    private static ProxyHeaderParser.Result parse(byte[] input, int length) {
        // an offset reader index: the parser must work relative to it
        ByteBuf buf =
                Unpooled.buffer(length + 3).writeBytes(new byte[] {1, 2, 3}).writeBytes(input, 0, length);
        buf.readerIndex(3);
        try {
            ProxyHeaderParser.Result r = ProxyHeaderParser.parse(buf);
            assertThat(buf.readerIndex()).isEqualTo(3);
            assertThat(r).isNotNull();
            return r;
        } finally {
            buf.release();
        }
    }

    private static void assertReencodes(ProxyHeader h) {
        ByteBuf encoded = ProxyProtocolV2.encode(ByteBufAllocator.DEFAULT, h.source(), h.destination(), null, null);
        try {
            byte[] bytes = new byte[encoded.readableBytes()];
            encoded.getBytes(encoded.readerIndex(), bytes);
            ProxyHeaderParser.Result again = parse(bytes, bytes.length);
            assertThat(again).as("re-encoded %s", Arrays.toString(bytes)).isInstanceOf(ProxyHeaderParser.Parsed.class);
            ProxyHeader back = ((ProxyHeaderParser.Parsed) again).header();
            assertThat(back.source()).isEqualTo(h.source());
            assertThat(back.destination()).isEqualTo(h.destination());
        } finally {
            encoded.release();
        }
    }
}
