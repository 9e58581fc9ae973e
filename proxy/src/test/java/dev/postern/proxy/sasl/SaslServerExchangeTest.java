package dev.postern.proxy.sasl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SaslServerExchangeTest {
    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static Credentials done(SaslServerExchange.Step step) {
        assertThat(step).isInstanceOf(SaslServerExchange.Done.class);
        return ((SaslServerExchange.Done) step).credentials();
    }

    @Test
    void plainWithInitialResponse() {
        Credentials c =
                done(SaslServerExchange.start(SaslMechanism.PLAIN).begin(b64("\0alice@example.test\0pä ss\"w")));
        assertThat(c.user()).isEqualTo("alice@example.test");
        assertThat(c.secret()).isEqualTo("pä ss\"w");
        assertThat(c.authzid()).isEmpty();
        assertThat(c.toString()).doesNotContain("pä ss");
    }

    @Test
    void plainWithoutInitialResponseAsksWithAnEmptyChallenge() {
        SaslServerExchange x = SaslServerExchange.start(SaslMechanism.PLAIN);
        assertThat(x.begin(null)).isEqualTo(new SaslServerExchange.Challenge(""));
        Credentials c = done(x.respond(b64("bob@example.test\0master\0pw")));
        assertThat(c.authzid()).isEqualTo("bob@example.test");
        assertThat(c.user()).isEqualTo("master");
    }

    @Test
    void plainRejectsMalformedMessagesWithoutEchoingThem() {
        assertThat(SaslServerExchange.start(SaslMechanism.PLAIN).begin(b64("only-one-field")))
                .isEqualTo(new SaslServerExchange.Failed("malformed PLAIN message"));
        assertThat(SaslServerExchange.start(SaslMechanism.PLAIN).begin(b64("a\0b\0c\0d")))
                .isEqualTo(new SaslServerExchange.Failed("malformed PLAIN message"));
        assertThat(SaslServerExchange.start(SaslMechanism.PLAIN).begin(b64("\0\0secret")))
                .isEqualTo(new SaslServerExchange.Failed("empty user name"));
        assertThat(SaslServerExchange.start(SaslMechanism.PLAIN).begin("%%%not-base64"))
                .isEqualTo(new SaslServerExchange.Failed("invalid base64"));
    }

    @Test
    void emptyInitialResponseIsAnEmptyMessage() {
        // IMAP/SMTP send "=" for an empty initial response; the front end passes ""
        assertThat(SaslServerExchange.start(SaslMechanism.PLAIN).begin(""))
                .isEqualTo(new SaslServerExchange.Failed("malformed PLAIN message"));
    }

    @Test
    void loginAsksForUserThenPassword() {
        SaslServerExchange x = SaslServerExchange.start(SaslMechanism.LOGIN);
        assertThat(x.begin(null)).isEqualTo(new SaslServerExchange.Challenge(b64("Username:")));
        assertThat(x.respond(b64("alice@example.test"))).isEqualTo(new SaslServerExchange.Challenge(b64("Password:")));
        Credentials c = done(x.respond(b64("alice-pw")));
        assertThat(c.user()).isEqualTo("alice@example.test");
        assertThat(c.secret()).isEqualTo("alice-pw");
    }

    @Test
    void loginWithTheUserAsInitialResponse() {
        SaslServerExchange x = SaslServerExchange.start(SaslMechanism.LOGIN);
        assertThat(x.begin(b64("alice@example.test"))).isEqualTo(new SaslServerExchange.Challenge(b64("Password:")));
        assertThat(done(x.respond(b64("alice-pw"))).secret()).isEqualTo("alice-pw");
    }

    @Test
    void xoauth2KeepsTheRawMessageForTheBackend() {
        String message = "user=alice@example.test\u0001auth=Bearer ya29.token\u0001\u0001";
        Credentials c = done(SaslServerExchange.start(SaslMechanism.XOAUTH2).begin(b64(message)));
        assertThat(c.user()).isEqualTo("alice@example.test");
        assertThat(c.secret()).isEqualTo("ya29.token");
        assertThat(SaslClient.token(c)).isEqualTo(b64(message));
    }

    @Test
    void oauthBearerReadsTheGs2AuthzidAndToken() {
        String message = "n,a=alice=2Cx@example.test,\u0001host=mail\u0001port=993\u0001auth=Bearer tok\u0001\u0001";
        Credentials c = done(SaslServerExchange.start(SaslMechanism.OAUTHBEARER).begin(b64(message)));
        assertThat(c.user()).isEqualTo("alice,x@example.test");
        assertThat(c.secret()).isEqualTo("tok");
        assertThat(SaslServerExchange.start(SaslMechanism.OAUTHBEARER).begin(b64("n,,\u0001auth=Bearer t\u0001\u0001")))
                .isInstanceOf(SaslServerExchange.Failed.class);
    }

    @Test
    void clientEncodingRoundTrips() {
        String ir = SaslClient.plain("alice@example.test", "proxy-master", "master-pw");
        Credentials c = done(SaslServerExchange.start(SaslMechanism.PLAIN).begin(ir));
        assertThat(c.authzid()).isEqualTo("alice@example.test");
        assertThat(c.user()).isEqualTo("proxy-master");
        assertThat(c.secret()).isEqualTo("master-pw");
    }
}
