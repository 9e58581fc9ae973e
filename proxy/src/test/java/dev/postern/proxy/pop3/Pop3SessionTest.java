package dev.postern.proxy.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ConfigLoader;
import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.auth.AuthResult;
import dev.postern.proxy.auth.Authenticator;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.OAuthError;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The POP3 AUTHORIZATION state machine on an embedded channel: no sockets, no backend. */
class Pop3SessionTest {
    private final List<AuthRequest> requests = new ArrayList<>();
    private AuthResult verdict = new AuthResult.Rejected("wrong password", false, Duration.ZERO);
    private final BackendCapabilities capabilities = new BackendCapabilities();
    private EmbeddedChannel ch;
    private Session session;

    @AfterEach
    void tearDown() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    private static ListenerConfig listener(String options) throws Exception {
        return ConfigLoader.parse(
                        """
                        listeners:
                          - {name: p3, protocol: pop3, bind: "127.0.0.1:1", pool: p, %s
                             timeouts: {pre-auth: 2s}, limits: {line-length: 512, sasl-line-length: 2KiB,
                             bad-commands: 4, auth-failures: 2}}
                        pools:
                          - {name: p, backends: [{address: "127.0.0.1:2"}]}
                        """
                                .formatted(options),
                        Path.of("."))
                .listeners()
                .get(0);
    }

    /** Connects a client to a session of a listener with {@code options}; returns the greeting. */
    private String connect(String options) throws Exception {
        ListenerConfig listener = listener(options);
        Authenticator authenticator = request -> {
            requests.add(request);
            return CompletableFuture.completedFuture(verdict);
        };
        ProxyServices services = new ProxyServices(
                null, null, null, Map.of(), new SessionRegistry(Metrics.NOOP), capabilities, Metrics.NOOP);
        LoginFlow flow = new LoginFlow(services, authenticator);
        ch = new EmbeddedChannel(false, false);
        session = services.sessions().open(listener, ch);
        ch.pipeline()
                .addLast(
                        HandlerNames.DECODER,
                        new Pop3Decoder(
                                listener.limits().lineLength(),
                                listener.limits().saslLineLength()))
                .addLast(
                        HandlerNames.SESSION,
                        new Pop3Session(services, listener, flow, new Pop3BackendDialogue(services)));
        ch.register();
        return read();
    }

    private String plainAllowed() throws Exception {
        return connect("allow-plaintext-auth: true,");
    }

    /** Sends {@code lines} in one write and returns everything the session answered. */
    private String send(String... lines) {
        StringBuilder sb = new StringBuilder();
        for (String line : lines) {
            sb.append(line).append("\r\n");
        }
        ch.writeInbound(Unpooled.copiedBuffer(sb, StandardCharsets.UTF_8));
        ch.runPendingTasks();
        return read();
    }

    private String read() {
        StringBuilder sb = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) o;
            sb.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return sb.toString();
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void greetsWithoutAnApopTimestamp() throws Exception {
        assertThat(plainAllowed()).isEqualTo("+OK Postern ready\r\n");
    }

    @Test
    void capaListsWhatTheBackendsOfferAfterLoginAndPosternsOwn() throws Exception {
        capabilities.learned(
                "p",
                Protocol.POP3,
                List.of("CAPA", "TOP", "UIDL", "EXPIRE 30", "STLS", "USER", "SASL PLAIN", "XCLIENT"));
        plainAllowed();
        assertThat(send("CAPA"))
                .isEqualTo("+OK Capability list follows\r\nCAPA\r\nTOP\r\nUIDL\r\nEXPIRE 30\r\nUSER\r\n"
                        + "SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
                        + "IMPLEMENTATION Postern\r\n.\r\n");
    }

    @Test
    void withoutTlsNoCredentialsAreTakenUnlessTheListenerAllows() throws Exception {
        connect("");
        String disallowed = "-ERR [SYS/PERM] Plaintext authentication disallowed on non-secure connection\r\n";
        assertThat(send("CAPA")).doesNotContain("USER", "SASL", "STLS");
        assertThat(send("USER alice")).isEqualTo(disallowed);
        assertThat(send("PASS secret")).isEqualTo(disallowed);
        assertThat(send("AUTH PLAIN " + b64("\0alice\0secret"))).isEqualTo(disallowed);
        assertThat(send("AUTH")).isEqualTo("+OK\r\n.\r\n");
        assertThat(requests).isEmpty();
    }

    @Test
    void userThenPassAsksTheAuthenticatorAndAnswersAuthFailure() throws Exception {
        plainAllowed();
        assertThat(send("USER alice@example.test")).isEqualTo("+OK\r\n");
        assertThat(send("PASS pass with  spaces")).isEqualTo("-ERR [AUTH] Authentication failed\r\n");
        assertThat(requests).hasSize(1);
        Credentials c = requests.get(0).credentials();
        assertThat(c).isEqualTo(Credentials.password(SaslMechanism.LOGIN, "alice@example.test", "pass with  spaces"));
        assertThat(requests.get(0).protocol()).isEqualTo(Protocol.POP3);
        // the user must be given again after a failure
        assertThat(send("PASS again")).startsWith("-ERR");
        assertThat(requests).hasSize(1);
    }

    @Test
    void aTemporaryRejectionIsSysTemp() throws Exception {
        verdict = new AuthResult.Rejected("directory down", true, Duration.ZERO);
        plainAllowed();
        assertThat(send("USER alice", "PASS pw"))
                .isEqualTo("+OK\r\n-ERR [SYS/TEMP] Service temporarily unavailable, try again later\r\n");
    }

    @Test
    void passWithoutUserIsRefused() throws Exception {
        plainAllowed();
        assertThat(send("PASS secret")).startsWith("-ERR");
        assertThat(requests).isEmpty();
    }

    @Test
    void userWithABadArgumentIsRefused() throws Exception {
        plainAllowed();
        assertThat(send("USER")).startsWith("-ERR");
        assertThat(send("USER two words")).startsWith("-ERR");
        assertThat(send("USER " + "u".repeat(Pop3Session.MAX_USER + 1))).startsWith("-ERR");
        assertThat(send("PASS pw")).startsWith("-ERR");
        assertThat(requests).isEmpty();
    }

    @Test
    void authPlainWithAnInitialResponse() throws Exception {
        plainAllowed();
        assertThat(send("AUTH PLAIN " + b64("\0alice@example.test\0alice-pw")))
                .isEqualTo("-ERR [AUTH] Authentication failed\r\n");
        assertThat(requests.get(0).credentials())
                .isEqualTo(new Credentials(SaslMechanism.PLAIN, "", "alice@example.test", "alice-pw", null));
    }

    @Test
    void authPlainWithAContinuation() throws Exception {
        plainAllowed();
        assertThat(send("AUTH PLAIN")).isEqualTo("+ \r\n");
        assertThat(send(b64("admin\0alice\0pw"))).isEqualTo("-ERR [AUTH] Authentication failed\r\n");
        assertThat(requests.get(0).credentials())
                .isEqualTo(new Credentials(SaslMechanism.PLAIN, "admin", "alice", "pw", null));
    }

    @Test
    void anEqualsSignIsAnEmptyInitialResponseNotAMissingOne() throws Exception {
        plainAllowed();
        // an empty PLAIN message is malformed: refused at once, no challenge is sent
        assertThat(send("AUTH PLAIN =")).startsWith("-ERR").doesNotStartWith("+");
        assertThat(requests).isEmpty();
    }

    @Test
    void authLoginAsksForUserAndPassword() throws Exception {
        plainAllowed();
        assertThat(send("AUTH LOGIN")).isEqualTo("+ " + b64("Username:") + "\r\n");
        assertThat(send(b64("alice"))).isEqualTo("+ " + b64("Password:") + "\r\n");
        assertThat(send(b64("pw"))).isEqualTo("-ERR [AUTH] Authentication failed\r\n");
        assertThat(requests.get(0).credentials()).isEqualTo(Credentials.password(SaslMechanism.LOGIN, "alice", "pw"));
    }

    @Test
    void aStarCancelsTheExchange() throws Exception {
        plainAllowed();
        assertThat(send("AUTH PLAIN")).isEqualTo("+ \r\n");
        assertThat(send("*")).isEqualTo("-ERR Authentication cancelled\r\n");
        assertThat(send("CAPA")).startsWith("+OK Capability list follows");
        assertThat(requests).isEmpty();
    }

    @Test
    void xoauth2IsRelayedAsTheClientsOwnMessage() throws Exception {
        plainAllowed();
        String message = "user=alice@example.test\u0001auth=Bearer tok123\u0001\u0001";
        send("AUTH XOAUTH2 " + b64(message));
        Credentials c = requests.get(0).credentials();
        assertThat(c.mechanism()).isEqualTo(SaslMechanism.XOAUTH2);
        assertThat(c.user()).isEqualTo("alice@example.test");
        assertThat(new String(c.raw(), StandardCharsets.UTF_8)).isEqualTo(message);
    }

    @Test
    void aBareAuthListsTheMechanisms() throws Exception {
        plainAllowed();
        assertThat(send("AUTH")).isEqualTo("+OK\r\nPLAIN\r\nLOGIN\r\nXOAUTH2\r\nOAUTHBEARER\r\n.\r\n");
    }

    @Test
    void anUnknownMechanismIsRefused() throws Exception {
        plainAllowed();
        assertThat(send("AUTH CRAM-MD5")).startsWith("-ERR");
        assertThat(send("AUTH PLAIN a b")).startsWith("-ERR");
        assertThat(requests).isEmpty();
    }

    @Test
    void theSaslErrorRepliesAreExactlyTheseLines() throws Exception {
        plainAllowed();
        assertThat(send("AUTH PLAIN =")).isEqualTo("-ERR Invalid SASL response: malformed PLAIN message\r\n");
        assertThat(send("AUTH PLAIN !!!")).isEqualTo("-ERR Invalid SASL response: invalid base64\r\n");
        assertThat(send("AUTH cram-md5")).isEqualTo("-ERR Unsupported authentication mechanism\r\n");
        assertThat(requests).isEmpty();
    }

    @Test
    void aSaslErrorThatIsOneBadCommandTooManyGetsOnlyTheClosingReply() throws Exception {
        plainAllowed();
        send("NOOP", "NOOP", "NOOP");
        assertThat(send("AUTH LOGIN")).isEqualTo("+ " + b64("Username:") + "\r\n");
        assertThat(send("%%%")).isEqualTo("-ERR Too many invalid commands or failed logins, closing connection\r\n");
        assertThat(session.closeReason()).isEqualTo(CloseReason.LIMIT);
    }

    @Test
    void aUserNameOutlivesAnUnsupportedAuthButNotAnExchangeThatBegan() throws Exception {
        plainAllowed();
        send("USER alice");
        assertThat(send("AUTH CRAM-MD5")).isEqualTo("-ERR Unsupported authentication mechanism\r\n");
        assertThat(send("AUTH PLAIN a b")).isEqualTo("-ERR Unsupported authentication mechanism\r\n");
        assertThat(send("PASS pw")).isEqualTo("-ERR [AUTH] Authentication failed\r\n");
        assertThat(requests.get(0).credentials()).isEqualTo(Credentials.password(SaslMechanism.LOGIN, "alice", "pw"));
        send("USER bob");
        assertThat(send("AUTH LOGIN", "*"))
                .isEqualTo("+ " + b64("Username:") + "\r\n-ERR Authentication cancelled\r\n");
        assertThat(send("PASS pw")).isEqualTo("-ERR No user name given (USER first)\r\n");
        assertThat(requests).hasSize(1);
    }

    @Test
    void aPassPipelinedBehindAnAuthThatFailedFindsNoUser() throws Exception {
        plainAllowed();
        assertThat(send("USER alice", "AUTH PLAIN " + b64("\0bob\0bob-pw"), "PASS alice-pw"))
                .isEqualTo("+OK\r\n-ERR [AUTH] Authentication failed\r\n-ERR No user name given (USER first)\r\n");
        assertThat(requests)
                .singleElement()
                .satisfies(r -> assertThat(r.credentials().user()).isEqualTo("bob"));
    }

    @Test
    void noopAndTransactionCommandsAreRefusedBeforeLogin() throws Exception {
        plainAllowed();
        assertThat(send("NOOP")).startsWith("-ERR");
        assertThat(send("STAT")).startsWith("-ERR");
        assertThat(send("APOP alice 0123456789abcdef")).startsWith("-ERR");
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void stlsOnAListenerWithoutTlsIsRefused() throws Exception {
        plainAllowed();
        assertThat(send("STLS")).startsWith("-ERR");
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void quitSaysByeAndCloses() throws Exception {
        plainAllowed();
        assertThat(send("QUIT")).isEqualTo("+OK Bye\r\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.CLIENT_CLOSED);
    }

    @Test
    void tooManyBadCommandsCloseTheConnection() throws Exception {
        plainAllowed();
        assertThat(send("NOOP", "NOOP", "NOOP"))
                .isEqualTo("-ERR Unknown command or not allowed before login\r\n".repeat(3));
        assertThat(ch.isOpen()).isTrue();
        assertThat(send("NOOP", "CAPA")).startsWith("-ERR Too many").doesNotContain("Capability");
        assertThat(ch.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.LIMIT);
    }

    @Test
    void tooManyFailedLoginsCloseTheConnection() throws Exception {
        plainAllowed();
        assertThat(send("USER a", "PASS b")).endsWith("-ERR [AUTH] Authentication failed\r\n");
        assertThat(send("USER a", "PASS c"))
                .isEqualTo("+OK\r\n-ERR Too many invalid commands or failed logins, closing connection\r\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.AUTH_FAILED);
    }

    @Test
    void thePreAuthTimeoutSaysSoAndCloses() throws Exception {
        plainAllowed();
        ch.advanceTimeBy(1, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).isTrue();
        ch.advanceTimeBy(1500, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(read()).isEqualTo("-ERR Disconnected for inactivity\r\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.PRE_AUTH_TIMEOUT);
    }

    @Test
    void aTooLongLineIsAnsweredAndCloses() throws Exception {
        plainAllowed();
        assertThat(send("USER " + "x".repeat(600))).isEqualTo("-ERR Line too long\r\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.LIMIT);
    }

    @Test
    void commandsPipelinedBehindALoginWaitForItsOutcome() throws Exception {
        plainAllowed();
        assertThat(send("USER a", "PASS b", "CAPA"))
                .startsWith("+OK\r\n-ERR [AUTH] Authentication failed\r\n+OK Capability");
    }

    @Test
    void aRefusedTokenGetsTheErrorStatusThenErrAuth() throws Exception {
        verdict = AuthResult.Rejected.token(
                "invalid_token: bad signature", OAuthError.invalidToken(Optional.empty(), Optional.empty()));
        plainAllowed();
        String message = "n,a=alice,\u0001auth=Bearer forged\u0001\u0001";
        assertThat(send("AUTH OAUTHBEARER " + b64(message)))
                .isEqualTo("+ " + b64("{\"status\":\"invalid_token\"}") + "\r\n");
        assertThat(send("AQ==")).isEqualTo("-ERR [AUTH] Authentication failed\r\n");
        assertThat(requests).hasSize(1);
    }

    @Test
    void aTemporaryTokenFailureIsSysTempWithoutAnErrorStatus() throws Exception {
        verdict = new AuthResult.Rejected("JWKS unavailable", true, Duration.ZERO);
        plainAllowed();
        assertThat(send("AUTH XOAUTH2 " + b64("user=alice\u0001auth=Bearer t\u0001\u0001")))
                .isEqualTo("-ERR [SYS/TEMP] Service temporarily unavailable, try again later\r\n");
    }
}
