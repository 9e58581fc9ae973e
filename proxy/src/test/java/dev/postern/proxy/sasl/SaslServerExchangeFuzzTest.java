package dev.postern.proxy.sasl;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * Fuzzes the server side of every SASL mechanism (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER, EXTERNAL). The input is the
 * client's messages, one per LF-separated part, base64-encoded here (so the fuzzer explores the mechanisms' own
 * syntax), and once more the input as the client's raw base64 line. Properties: nothing throws; a refusal's reason is
 * one of the fixed texts (never the client's bytes, which may be a password); accepted credentials name a user, and
 * what Postern would send a backend for them ({@link SaslClient}) decodes to the same credentials. The seed corpus is
 * in {@code SaslServerExchangeFuzzTestInputs/}.
 */
class SaslServerExchangeFuzzTest {
    private static final Set<String> REASONS = Set.of(
            "invalid base64",
            "malformed PLAIN message",
            "empty user name",
            "malformed EXTERNAL message",
            "malformed XOAUTH2 message",
            "malformed OAUTHBEARER message",
            "malformed OAUTHBEARER GS2 header");

    @FuzzTest
    void everyMechanismRefusesCleanlyOrRoundTrips(byte[] input) {
        List<String> messages = new ArrayList<>();
        int from = 0;
        for (int i = 0; i <= input.length; i++) {
            if (i == input.length || input[i] == '\n') {
                messages.add(Base64.getEncoder().encodeToString(Arrays.copyOfRange(input, from, i)));
                from = i + 1;
            }
        }
        String rawLine = new String(input, StandardCharsets.ISO_8859_1);
        for (SaslMechanism m : SaslMechanism.values()) {
            check(m, run(m, messages));
            check(m, run(m, List.of(rawLine)));
            check(m, run(m, List.of(rawLine, rawLine)));
        }
    }

    private static SaslServerExchange.Step run(SaslMechanism m, List<String> messages) {
        SaslServerExchange exchange = SaslServerExchange.start(m);
        SaslServerExchange.Step step = exchange.begin(messages.get(0));
        for (int i = 1; i < messages.size() && step instanceof SaslServerExchange.Challenge; i++) {
            step = exchange.respond(messages.get(i));
        }
        return step;
    }

    private static void check(SaslMechanism m, SaslServerExchange.Step step) {
        if (step instanceof SaslServerExchange.Failed f) {
            assertThat(REASONS).contains(f.reason());
        } else if (step instanceof SaslServerExchange.Done done) {
            Credentials c = done.credentials();
            assertThat(c.mechanism()).isEqualTo(m);
            if (m != SaslMechanism.EXTERNAL) {
                assertThat(c.user()).isNotEmpty();
            }
            assertThat(run(m, backendMessages(c))).isEqualTo(done);
        } else {
            assertThat(step).isInstanceOf(SaslServerExchange.Challenge.class);
        }
    }

    /** What Postern sends a backend for {@code c}, as the messages of one exchange. */
    private static List<String> backendMessages(Credentials c) {
        return switch (c.mechanism()) {
            case PLAIN -> List.of(SaslClient.plain(c.authzid(), c.user(), c.secret()));
            case LOGIN -> List.of(SaslClient.login(c.user()), SaslClient.login(c.secret()));
            case XOAUTH2, OAUTHBEARER -> List.of(SaslClient.token(c));
            case EXTERNAL -> List.of(SaslClient.login(c.authzid()));
        };
    }
}
