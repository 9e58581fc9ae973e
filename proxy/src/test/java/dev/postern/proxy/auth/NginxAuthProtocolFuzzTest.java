package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.postern.testkit.Chunks;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CodecException;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.time.Duration;

/**
 * Fuzzes what Postern makes of an auth service's HTTP answer (nginx's auth_http protocol): the bytes go through the
 * same Netty HTTP decoder and aggregator as in {@link HttpAuthProvider}, then {@link NginxAuthProtocol#answer}.
 * Every message read is read as the provider reads it (an aggregated response, or the raw bytes the decoder passes on
 * after a 101) and released. Interim responses (100, 103, ...) are skipped as the provider skips them.
 * Properties: an answer is a decision or an {@link IOException}, never another exception; a 1xx (above all 101,
 * after which the decoder stops parsing HTTP) is never a decision, and raw bytes come only after a 101; a route names a host
 * without spaces, slashes or {@code @} and a port in range; a wait is at most {@link NginxAuthProtocol#MAX_WAIT}; a
 * refusal's text (logged) is printable ASCII of at most 200 characters; an accepted user is never empty; every buffer
 * is released. The seed corpus is in {@code NginxAuthProtocolFuzzTestInputs/}.
 */
class NginxAuthProtocolFuzzTest {
    private static final AuthRequest REQUEST = Requests.login("alice@example.test", "secret");

    @FuzzTest
    void anAnswerIsADecisionOrAnIoError(byte[] input) {
        EmbeddedChannel ch = new EmbeddedChannel(new HttpResponseDecoder(), new HttpObjectAggregator(64 * 1024));
        Connection connection = new Connection();
        Chunks.feed(
                        ch,
                        Chunks.cut(input, Chunks.Way.PLAN),
                        e -> {
                            if (!(e instanceof CodecException)) {
                                throw e;
                            }
                        },
                        () -> {
                            Object msg;
                            while ((msg = ch.readInbound()) != null) {
                                try {
                                    connection.read(msg);
                                } finally {
                                    ReferenceCountUtil.release(msg);
                                }
                            }
                        })
                .assertReleased();
    }

    /** What {@link HttpAuthProvider}'s answer handler meets on one connection, in order. */
    private static final class Connection {
        /** A 101 came: from there on the decoder passes raw bytes (HttpAuthProvider closes at the 101). */
        private boolean switched;

        void read(Object msg) {
            if (!(msg instanceof FullHttpResponse response)) {
                assertThat(switched)
                        .as("bytes the decoder no longer parses come only after a 101, %s", msg)
                        .isTrue();
                return;
            }
            int status = response.status().code();
            if (status == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
                switched = true;
            }
            if (response.decoderResult().isSuccess() && !NginxAuthProtocol.isInterim(status)) {
                check(response);
            }
        }
    }

    private static void check(FullHttpResponse response) {
        NginxAuthProtocol.Answer answer;
        try {
            answer = NginxAuthProtocol.answer(
                    response.headers(), response.status().code(), REQUEST);
        } catch (IOException e) {
            return;
        }
        assertThat(response.status().codeClass())
                .as("a 1xx is never a decision")
                .isNotEqualTo(HttpStatusClass.INFORMATIONAL);
        assertThat(answer.pause()).isBetween(Duration.ZERO, NginxAuthProtocol.MAX_WAIT);
        if (answer.result() instanceof AuthResult.Accepted a) {
            assertThat(a.user()).isNotEmpty();
            a.route().ifPresent(r -> {
                if (r.host() != null) {
                    assertThat(r.host()).isNotEmpty().doesNotContain(" ", "/", "@", "\r", "\n", "\t");
                    assertThat(r.port()).isBetween(0, 65535);
                } else {
                    assertThat(r.pool()).isNotBlank();
                }
            });
            a.backendCredentials().ifPresent(c -> assertThat(c.user()).isNotEmpty());
        } else if (answer.result() instanceof AuthResult.Rejected r) {
            assertThat(r.reason()).hasSizeLessThanOrEqualTo(200).matches("[\\x20-\\x7e]*");
            assertThat(r.delay()).isBetween(Duration.ZERO, NginxAuthProtocol.MAX_WAIT);
        } else {
            assertThat(answer.isWait()).isTrue();
        }
    }
}
