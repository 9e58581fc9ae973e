package dev.postern.proxy.sasl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The driver against a host that records what it is asked to do, in order. */
class SaslDriverTest {
    private static final List<SaslMechanism> ALL = List.of(SaslMechanism.values());
    private static final String USERNAME = b64("Username:");
    private static final String PASSWORD = b64("Password:");

    private final RecordingHost host = new RecordingHost();
    private final SaslDriver driver = new SaslDriver(host);

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes, errors, mode changes and logins as lines: {@code write ...}, {@code error ...}, and so on. */
    private static final class RecordingHost implements SaslDriver.Host {
        final List<String> events = new ArrayList<>();
        final List<Credentials> logins = new ArrayList<>();
        /** What the front end does next from inside {@link #authenticated}, as a login that completes at once would. */
        Runnable next = () -> {};

        @Override
        public void started(SaslMechanism mechanism) {
            events.add("started " + mechanism);
        }

        @Override
        public void write(String line) {
            events.add("write " + line);
        }

        @Override
        public void error(String reply) {
            events.add("error " + reply);
        }

        @Override
        public void exchanging(boolean on) {
            events.add(on ? "exchanging" : "ended");
        }

        @Override
        public void authenticated(Credentials credentials) {
            events.add("authenticated " + credentials.user());
            logins.add(credentials);
            next.run();
        }

        @Override
        public void refused() {
            events.add("refused");
        }

        List<String> take() {
            List<String> out = List.copyOf(events);
            events.clear();
            return out;
        }
    }

    static Stream<Arguments> continuations() {
        return Stream.of(
                Arguments.of("IMAP", SaslProfile.imap("a1"), "+ "),
                Arguments.of("POP3", SaslProfile.POP3, "+ "),
                Arguments.of("SMTP", SaslProfile.SMTP, "334 "));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("continuations")
    void eachProtocolWritesTheChallengeOnItsOwnContinuationLine(String protocol, SaslProfile profile, String prefix) {
        assertThat(driver.start(profile, "LOGIN", null, ALL)).isTrue();
        assertThat(host.take()).containsExactly("started LOGIN", "exchanging", "write " + prefix + USERNAME);
        driver.start(profile, "PLAIN", null, ALL);
        assertThat(host.take())
                .as("an empty challenge")
                .containsExactly("started PLAIN", "exchanging", "write " + prefix);
    }

    @Test
    void theLoginMechanismAsksForTheUserThenThePasswordThenHandsTheCredentialsOver() {
        driver.start(SaslProfile.SMTP, "login", null, ALL);
        assertThat(host.take()).containsExactly("started LOGIN", "exchanging", "write 334 " + USERNAME);
        driver.respond(b64("alice@example.test"));
        assertThat(host.take()).containsExactly("exchanging", "write 334 " + PASSWORD);
        driver.respond(b64("alice-pw"));
        assertThat(host.take()).containsExactly("ended", "authenticated alice@example.test");
        assertThat(host.logins).singleElement().satisfies(c -> {
            assertThat(c.mechanism()).isEqualTo(SaslMechanism.LOGIN);
            assertThat(c.secret()).isEqualTo("alice-pw");
        });
        assertThatThrownBy(() -> driver.respond(b64("more"))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aCompleteInitialResponseLogsInWithoutAChallenge() {
        assertThat(driver.start(SaslProfile.POP3, "PLAIN", b64("\0alice\0pw"), ALL))
                .isTrue();
        assertThat(host.take()).containsExactly("started PLAIN", "ended", "authenticated alice");
    }

    @Test
    void anEqualsSignIsAnEmptyInitialResponseNotAMissingOne() {
        driver.start(SaslProfile.SMTP, "PLAIN", "=", ALL);
        assertThat(host.take()).containsExactly("started PLAIN", "ended", "error 501 5.5.2 malformed PLAIN message");
        driver.start(SaslProfile.POP3, "LOGIN", "=", ALL);
        assertThat(host.take())
                .containsExactly("started LOGIN", "ended", "error -ERR Invalid SASL response: empty user name");
        driver.start(SaslProfile.SMTP, "LOGIN", null, ALL);
        assertThat(host.take())
                .as("no initial response")
                .containsExactly("started LOGIN", "exchanging", "write 334 " + USERNAME);
    }

    @Test
    void aStarCancelsTheExchangeWithTheProfilesReplyWhichIsNotAnError() {
        driver.start(SaslProfile.imap("a7"), "LOGIN", null, ALL);
        driver.respond(b64("alice"));
        host.take();
        driver.respond("*");
        assertThat(host.take()).containsExactly("ended", "write a7 BAD Authentication cancelled");
        assertThat(host.logins).isEmpty();
        assertThatThrownBy(() -> driver.respond(b64("pw"))).isInstanceOf(IllegalStateException.class);

        driver.start(SaslProfile.SMTP, "PLAIN", null, ALL);
        host.take();
        driver.respond("*");
        assertThat(host.take()).containsExactly("ended", "write 501 5.0.0 Authentication cancelled");
    }

    @Test
    void badBase64EndsTheExchangeWithTheProfilesErrorReply() {
        driver.start(SaslProfile.SMTP, "PLAIN", "!!!", ALL);
        assertThat(host.take()).containsExactly("started PLAIN", "ended", "error 501 5.5.2 invalid base64");
        driver.start(SaslProfile.POP3, "LOGIN", null, ALL);
        host.take();
        driver.respond("%%%");
        assertThat(host.take()).containsExactly("ended", "error -ERR Invalid SASL response: invalid base64");
        driver.start(SaslProfile.imap("x"), "PLAIN", null, ALL);
        host.take();
        driver.respond("not base64!");
        assertThat(host.take()).containsExactly("ended", "error x BAD invalid base64");
    }

    @Test
    void aMechanismThatIsUnknownOrNotOfferedGetsTheUnsupportedReplyAndNoExchange() {
        List<SaslMechanism> passwords = List.of(SaslMechanism.PLAIN, SaslMechanism.LOGIN);
        assertThat(driver.start(SaslProfile.SMTP, "CRAM-MD5", null, ALL)).isFalse();
        assertThat(driver.start(SaslProfile.SMTP, "XOAUTH2", b64("user=a\u0001auth=Bearer t\u0001\u0001"), passwords))
                .isFalse();
        assertThat(driver.start(SaslProfile.imap("t1"), "OAUTHBEARER", null, passwords))
                .isFalse();
        assertThat(host.take())
                .containsExactly(
                        "error 504 5.5.4 Unrecognized authentication mechanism",
                        "error 504 5.5.4 Unrecognized authentication mechanism",
                        "error t1 NO Unsupported authentication mechanism");
        assertThatThrownBy(() -> driver.respond(b64("x"))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void theMechanismNameIsReadInAnyCase() {
        assertThat(driver.start(SaslProfile.POP3, "xOAuth2", b64("user=bob\u0001auth=Bearer tok\u0001\u0001"), ALL))
                .isTrue();
        assertThat(host.take()).containsExactly("started XOAUTH2", "ended", "authenticated bob");
        assertThat(host.logins.get(0).mechanism()).isEqualTo(SaslMechanism.XOAUTH2);
    }

    @Test
    void theImapProfileCarriesTheCommandsTagInEveryFinalReply() {
        SaslProfile imap = SaslProfile.imap("A001");
        assertThat(imap.challenge("")).isEqualTo("+ ");
        assertThat(imap.cancelled()).isEqualTo("A001 BAD Authentication cancelled");
        assertThat(imap.invalid("malformed PLAIN message")).isEqualTo("A001 BAD malformed PLAIN message");
        assertThat(imap.unsupported()).isEqualTo("A001 NO Unsupported authentication mechanism");
    }

    @Test
    void aHostMayStartTheNextExchangeFromInsideTheCallThatEndedTheLastOne() {
        host.next = () -> {
            host.next = () -> {};
            driver.start(SaslProfile.SMTP, "LOGIN", null, ALL);
        };
        driver.start(SaslProfile.SMTP, "PLAIN", b64("\0alice\0pw"), ALL);
        assertThat(host.take())
                .containsExactly(
                        "started PLAIN",
                        "ended",
                        "authenticated alice",
                        "started LOGIN",
                        "exchanging",
                        "write 334 " + USERNAME);
        driver.respond(b64("bob"));
        driver.respond(b64("bob-pw"));
        assertThat(host.logins).extracting(Credentials::user).containsExactly("alice", "bob");
    }

    @Test
    void resetForgetsTheExchangeWithoutAWordToTheHost() {
        driver.start(SaslProfile.POP3, "LOGIN", null, ALL);
        host.take();
        driver.reset();
        assertThat(host.take()).isEmpty();
        assertThatThrownBy(() -> driver.respond(b64("alice"))).isInstanceOf(IllegalStateException.class);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("continuations")
    void externalWithAnEmptyInitialResponseMeansTheCertificatesUser(String protocol, SaslProfile profile, String p) {
        assertThat(driver.start(profile, "external", "=", ALL)).isTrue();

        Credentials c = host.logins.get(0);
        assertThat(c.isExternal()).isTrue();
        assertThat(c.authzid())
                .as("empty: the certificate's user, filled in by the front end")
                .isEmpty();
        assertThat(c.secret()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("continuations")
    void externalWithoutInitialResponseAsksOnceAndTakesTheAuthzid(String protocol, SaslProfile profile, String p) {
        driver.start(profile, "EXTERNAL", null, ALL);
        assertThat(host.take()).contains("write " + p);

        driver.respond(b64("alice@example.test"));

        assertThat(host.logins.get(0).authzid()).isEqualTo("alice@example.test");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("continuations")
    void externalIsRefusedWhereItIsNotOffered(String protocol, SaslProfile profile, String prefix) {
        assertThat(driver.start(profile, "EXTERNAL", "=", SaslMechanism.PASSWORD_AND_TOKEN))
                .isFalse();

        assertThat(host.take()).containsExactly("error " + profile.unsupported());
        assertThat(host.logins).isEmpty();
    }

    private static String decode(String base64) {
        return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("continuations")
    void aRefusedTokenGetsItsErrorStatusAsAChallengeThenTheDummyResponseEndsTheExchange(
            String protocol, SaslProfile profile, String prefix) {
        String message = "n,a=alice@example.test,\u0001auth=Bearer expired\u0001\u0001";
        driver.start(profile, "OAUTHBEARER", b64(message), ALL);
        assertThat(host.take()).containsExactly("started OAUTHBEARER", "ended", "authenticated alice@example.test");

        OAuthError error = OAuthError.invalidToken(
                Optional.of("mail"), Optional.of("https://id.example.test/.well-known/openid-configuration"));
        driver.refuse(profile, error.challenge(SaslMechanism.OAUTHBEARER));
        List<String> events = host.take();
        assertThat(events).hasSize(2);
        assertThat(events.get(0)).isEqualTo("exchanging");
        assertThat(events.get(1)).startsWith("write " + prefix);
        assertThat(decode(events.get(1).substring(("write " + prefix).length())))
                .isEqualTo("{\"status\":\"invalid_token\",\"scope\":\"mail\","
                        + "\"openid-configuration\":\"https://id.example.test/.well-known/openid-configuration\"}");

        driver.respond("AQ==");
        assertThat(host.take())
                .as("no credentials, no error: the host answers its failure")
                .containsExactly("ended", "refused");
        assertThat(host.logins).hasSize(1);
        assertThatThrownBy(() -> driver.respond("AQ==")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aClientThatCancelsTheErrorStatusIsRefusedAllTheSame() {
        driver.start(SaslProfile.SMTP, "XOAUTH2", b64("user=alice\u0001auth=Bearer t\u0001\u0001"), ALL);
        host.take();
        driver.refuse(
                SaslProfile.SMTP,
                OAuthError.invalidToken(Optional.empty(), Optional.empty()).challenge(SaslMechanism.XOAUTH2));
        host.take();
        driver.respond("*");
        assertThat(host.take()).containsExactly("ended", "refused");
    }

    @Test
    void xoauth2GetsGooglesFormOfTheErrorStatus() {
        OAuthError error =
                OAuthError.invalidToken(Optional.of("https://mail.example.test/"), Optional.of("https://x/"));
        assertThat(error.json(SaslMechanism.XOAUTH2))
                .isEqualTo("{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.example.test/\"}");
        assertThat(OAuthError.invalidToken(Optional.empty(), Optional.empty()).json(SaslMechanism.OAUTHBEARER))
                .isEqualTo("{\"status\":\"invalid_token\"}");
        assertThat(new OAuthError("invalid_token", Optional.of("a\"b"), Optional.empty())
                        .json(SaslMechanism.OAUTHBEARER))
                .as("quotes are escaped")
                .isEqualTo("{\"status\":\"invalid_token\",\"scope\":\"a\\\"b\"}");
    }

    @Test
    void resetForgetsARefusalInProgress() {
        driver.refuse(SaslProfile.POP3, "e30=");
        host.take();
        driver.reset();
        assertThatThrownBy(() -> driver.respond("AQ==")).isInstanceOf(IllegalStateException.class);
        assertThat(host.take()).isEmpty();
    }
}
