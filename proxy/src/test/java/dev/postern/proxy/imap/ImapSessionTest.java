package dev.postern.proxy.imap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ConfigLoader;
import dev.postern.config.PosternConfig;
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
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pre-authentication state machine on an embedded channel: no sockets, no backend. The authenticator stands in
 * for the login's outcome (a rejection is the failed or unavailable login a backend would give).
 */
class ImapSessionTest {
    private static TlsManager tls;

    private EmbeddedChannel ch;
    private MockTicker ticker;
    private Session session;
    private final FakeAuthenticator auth = new FakeAuthenticator();

    @BeforeAll
    static void tls() throws Exception {
        tls = TlsManager.create(config("none", false).tls(), Duration.ofSeconds(5));
    }

    @AfterAll
    static void noTls() {
        tls = null;
    }

    @AfterEach
    void close() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    /** Answers every login with {@link #answer}, or holds it while {@link #hold} is set. */
    private static final class FakeAuthenticator implements Authenticator {
        final List<AuthRequest> requests = new ArrayList<>();
        AuthResult answer = new AuthResult.Rejected("wrong password", false, Duration.ZERO);
        CompletableFuture<AuthResult> hold;

        @Override
        public CompletionStage<AuthResult> authenticate(AuthRequest request) {
            requests.add(request);
            return hold != null ? hold : CompletableFuture.completedFuture(answer);
        }

        Credentials last() {
            return requests.get(requests.size() - 1).credentials();
        }
    }

    private static PosternConfig config(String tlsMode, boolean plaintext) throws Exception {
        return ConfigLoader.parse(
                """
                listeners:
                  - name: imap
                    protocol: imap
                    bind: "127.0.0.1:1"
                    tls: %s
                    allow-plaintext-auth: %s
                    timeouts: {pre-auth: 2s}
                    limits: {bad-commands: 4, auth-failures: 2, line-length: 512, sasl-line-length: 1KiB, literal-size: 100}
                """
                        .formatted(tlsMode, plaintext),
                Path.of("."));
    }

    /** Opens a session on a listener with {@code tlsMode}; returns the greeting. */
    private String open(String tlsMode, boolean plaintext) throws Exception {
        var listener = config(tlsMode, plaintext).listeners().get(0);
        ProxyServices services = new ProxyServices(
                null, tls, null, Map.of(), new SessionRegistry(Metrics.NOOP), new BackendCapabilities(), Metrics.NOOP);
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
        // the pre-auth timer moves only when a test says so
        ticker = Ticker.newMockTicker();
        ch = EmbeddedChannel.builder().register(false).ticker(ticker).build();
        session = services.sessions().open(listener, ch);
        ch.pipeline()
                .addLast(HandlerNames.DECODER, new ImapDecoder(512, 1024, 100))
                .addLast(
                        HandlerNames.SESSION,
                        new ImapSession(
                                services, listener, new LoginFlow(services, auth), new ImapBackendDialogue(services)));
        ch.register();
        return replies();
    }

    private String send(String text) {
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
        ch.runPendingTasks();
        return replies();
    }

    private String replies() {
        StringBuilder sb = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            sb.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return sb.toString();
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    // ---- greeting and capabilities per TLS state

    @Test
    void plainListenerWithoutPlaintextAuthSaysLoginDisabled() throws Exception {
        String greeting = open("none", false);
        assertThat(greeting)
                .isEqualTo("* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID LOGINDISABLED] Postern ready\r\n");
        assertThat(send("a CAPABILITY\r\n"))
                .isEqualTo("* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID LOGINDISABLED\r\na OK CAPABILITY completed\r\n");
    }

    @Test
    void plainListenerAllowingPlaintextOffersEveryMechanism() throws Exception {
        assertThat(open("none", true))
                .isEqualTo("* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2"
                        + " AUTH=OAUTHBEARER] Postern ready\r\n");
    }

    @Test
    void startTlsListenerOffersStartTlsAndNoMechanismsBeforeIt() throws Exception {
        String greeting = open("starttls", false);
        assertThat(greeting).contains(" STARTTLS").contains("LOGINDISABLED").doesNotContain("AUTH=");
        assertThat(greeting).doesNotContain("PREAUTH").startsWith("* OK [CAPABILITY IMAP4rev1 ");
    }

    @Test
    void implicitTlsListenerGreetsAfterTheHandshakeWithMechanisms() throws Exception {
        assertThat(open("implicit", false)).isEmpty();
        session.tls("TLSv1.3", "TLS_AES_128_GCM_SHA256");
        ch.pipeline().fireUserEventTriggered(SslHandshakeCompletionEvent.SUCCESS);
        String greeting = replies();
        assertThat(greeting).contains("AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2 AUTH=OAUTHBEARER");
        assertThat(greeting).doesNotContain("STARTTLS").doesNotContain("LOGINDISABLED");
    }

    @Test
    void startTlsIsRefusedWhereItIsNotOffered() throws Exception {
        open("none", true);
        assertThat(send("a STARTTLS\r\n")).isEqualTo("a BAD STARTTLS is not available\r\n");
        open("implicit", false);
        session.tls("TLSv1.3", "TLS_AES_128_GCM_SHA256");
        ch.pipeline().fireUserEventTriggered(SslHandshakeCompletionEvent.SUCCESS);
        replies();
        assertThat(send("b STARTTLS\r\n")).isEqualTo("b BAD TLS is already active\r\n");
    }

    @Test
    void startTlsGoesAheadAndInstallsTls() throws Exception {
        open("starttls", false);
        assertThat(send("s STARTTLS\r\n")).isEqualTo("s OK Begin TLS negotiation now\r\n");
        // TLS goes first in the pipeline, and nothing more is decoded until its handshake is done
        assertThat(ch.pipeline().names().get(0)).isEqualTo("tls");
        assertThat(send("t NOOP\r\n")).isEmpty();
    }

    // ---- privacy

    @Test
    void loginAndAuthenticateWithoutTlsAreRefusedWithPrivacyRequired() throws Exception {
        open("starttls", false);
        assertThat(send("a LOGIN alice pw\r\n")).isEqualTo("a NO [PRIVACYREQUIRED] Use STARTTLS first\r\n");
        assertThat(send("b AUTHENTICATE PLAIN " + b64("\0alice\0pw") + "\r\n"))
                .isEqualTo("b NO [PRIVACYREQUIRED] Use STARTTLS first\r\n");
        open("none", false);
        assertThat(send("c LOGIN alice pw\r\n"))
                .isEqualTo("c NO [PRIVACYREQUIRED] Plaintext authentication is not allowed\r\n");
        assertThat(auth.requests).isEmpty();
    }

    @Test
    void aLoginLiteralWithoutTlsIsRefusedBeforeTheClientSendsIt() throws Exception {
        open("starttls", false);
        // no "+ Ready": the user name must not cross in cleartext before the NO
        assertThat(send("a LOGIN {18}\r\n")).isEqualTo("a NO [PRIVACYREQUIRED] Use STARTTLS first\r\n");
        // a client that waits sends nothing more; the next command is read as a command
        assertThat(send("b NOOP\r\n")).isEqualTo("b OK NOOP completed\r\n");
        assertThat(send("c LOGIN alice {2}\r\n")).isEqualTo("c NO [PRIVACYREQUIRED] Use STARTTLS first\r\n");
        // a non-synchronizing literal is already on its way: its bytes are read and dropped, then the NO
        assertThat(send("d LOGIN {5+}\r\nalice {2+}\r\npw\r\n"))
                .isEqualTo("d NO [PRIVACYREQUIRED] Use STARTTLS first\r\n");
        assertThat(send("e NOOP\r\n")).isEqualTo("e OK NOOP completed\r\n");
        assertThat(auth.requests).isEmpty();
        assertThat(ch.isOpen()).isTrue();
    }

    // ---- LOGIN

    @Test
    void failedLoginSaysAuthenticationFailedAndTheClientMayRetry() throws Exception {
        open("none", true);
        assertThat(send("a LOGIN alice wrong\r\n")).isEqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
        assertThat(ch.isOpen()).isTrue();
        assertThat(send("b NOOP\r\n")).isEqualTo("b OK NOOP completed\r\n");
        assertThat(auth.requests).hasSize(1);
        assertThat(auth.last()).isEqualTo(Credentials.password(SaslMechanism.LOGIN, "alice", "wrong"));
    }

    @Test
    void tooManyFailedLoginsCloseTheConnection() throws Exception {
        open("none", true);
        send("a LOGIN alice x\r\n");
        assertThat(send("b LOGIN alice y\r\n"))
                .isEqualTo("b NO [AUTHENTICATIONFAILED] Authentication failed.\r\n* BYE Too many errors\r\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.AUTH_FAILED);
    }

    @Test
    void unavailableIsATemporaryNo() throws Exception {
        open("none", true);
        auth.answer = new AuthResult.Rejected("auth service down", true, Duration.ZERO);
        assertThat(send("a LOGIN alice pw\r\n"))
                .isEqualTo("a NO [UNAVAILABLE] Service temporarily unavailable, try again later\r\n");
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void passwordsWithAnyCharacterArriveIntactThroughLiteralsAndQuotedStrings() throws Exception {
        open("none", true);
        String password = "p\"w\\ d{5}ä€";
        int bytes = password.getBytes(StandardCharsets.UTF_8).length;
        assertThat(send("a LOGIN alice@example.test {" + bytes + "}\r\n")).isEqualTo("+ Ready for literal data\r\n");
        send(password + "\r\n");
        assertThat(auth.last().secret()).isEqualTo(password);
        assertThat(auth.last().user()).isEqualTo("alice@example.test");

        send("b LOGIN {5+}\r\nalice \"p\\\"w\\\\ d{5}\"\r\n");
        assertThat(auth.last().user()).isEqualTo("alice");
        assertThat(auth.last().secret()).isEqualTo("p\"w\\ d{5}");
    }

    @Test
    void commandsPipelinedDuringALoginWaitForItsOutcome() throws Exception {
        open("none", true);
        auth.hold = new CompletableFuture<>();
        assertThat(send("a LOGIN alice pw\r\nb NOOP\r\n")).isEmpty();
        assertThat(send("c NOOP\r\n")).isEmpty();
        auth.hold.complete(new AuthResult.Rejected("no", false, Duration.ZERO));
        ch.runPendingTasks();
        assertThat(replies())
                .isEqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed.\r\nb OK NOOP completed\r\n"
                        + "c OK NOOP completed\r\n");
    }

    @Test
    void loginNeedsTwoStrings() throws Exception {
        open("none", true);
        assertThat(send("a LOGIN alice\r\n")).isEqualTo("a BAD LOGIN takes a user name and a password\r\n");
        assertThat(send("b LOGIN (alice) pw\r\n")).isEqualTo("b BAD LOGIN takes a user name and a password\r\n");
        assertThat(auth.requests).isEmpty();
    }

    // ---- AUTHENTICATE

    @Test
    void authenticatePlainWithInitialResponse() throws Exception {
        open("none", true);
        assertThat(send("a AUTHENTICATE PLAIN " + b64("\0alice@example.test\0alice-pw") + "\r\n"))
                .isEqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
        assertThat(auth.last())
                .isEqualTo(new Credentials(SaslMechanism.PLAIN, "", "alice@example.test", "alice-pw", null));
    }

    @Test
    void authenticatePlainWithContinuation() throws Exception {
        open("none", true);
        assertThat(send("a authenticate plain\r\n")).isEqualTo("+ \r\n");
        assertThat(send(b64("admin\0alice\0pw") + "\r\n"))
                .isEqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
        assertThat(auth.last()).isEqualTo(new Credentials(SaslMechanism.PLAIN, "admin", "alice", "pw", null));
    }

    @Test
    void authenticateLoginAsksForUserAndPassword() throws Exception {
        open("none", true);
        assertThat(send("a AUTHENTICATE LOGIN\r\n")).isEqualTo("+ " + b64("Username:") + "\r\n");
        assertThat(send(b64("alice") + "\r\n")).isEqualTo("+ " + b64("Password:") + "\r\n");
        send(b64("pw") + "\r\n");
        assertThat(auth.last()).isEqualTo(Credentials.password(SaslMechanism.LOGIN, "alice", "pw"));
    }

    @Test
    void authenticateXoauth2RelaysTheToken() throws Exception {
        open("none", true);
        String message = "user=alice@example.test\u0001auth=Bearer tok3n\u0001\u0001";
        send("a AUTHENTICATE XOAUTH2 " + b64(message) + "\r\n");
        assertThat(auth.last().mechanism()).isEqualTo(SaslMechanism.XOAUTH2);
        assertThat(auth.last().user()).isEqualTo("alice@example.test");
        assertThat(auth.last().secret()).isEqualTo("tok3n");
        assertThat(new String(auth.last().raw(), StandardCharsets.UTF_8)).isEqualTo(message);
    }

    @Test
    void emptyInitialResponseIsAnEmptyMessage() throws Exception {
        open("none", true);
        assertThat(send("a AUTHENTICATE PLAIN =\r\n")).isEqualTo("a BAD malformed PLAIN message\r\n");
        assertThat(auth.requests).isEmpty();
    }

    @Test
    void starCancelsTheExchange() throws Exception {
        open("none", true);
        send("a AUTHENTICATE PLAIN\r\n");
        assertThat(send("*\r\n")).isEqualTo("a BAD Authentication cancelled\r\n");
        assertThat(send("b NOOP\r\n")).isEqualTo("b OK NOOP completed\r\n");
        assertThat(auth.requests).isEmpty();
    }

    @Test
    void invalidBase64IsBad() throws Exception {
        open("none", true);
        send("a AUTHENTICATE PLAIN\r\n");
        assertThat(send("!!notbase64!!\r\n")).isEqualTo("a BAD invalid base64\r\n");
    }

    @Test
    void unknownMechanismIsRefused() throws Exception {
        open("none", true);
        assertThat(send("a AUTHENTICATE CRAM-MD5\r\n")).isEqualTo("a NO Unsupported authentication mechanism\r\n");
    }

    @Test
    void aSaslErrorThatIsOneBadCommandTooManyIsAnsweredThenTheConnectionCloses() throws Exception {
        open("none", true);
        send("a FROB\r\nb FROB\r\nc FROB\r\n");
        send("d AUTHENTICATE PLAIN\r\n");
        assertThat(send("!!notbase64!!\r\n")).isEqualTo("d BAD invalid base64\r\n* BYE Too many errors\r\n");
        assertThat(session.closeReason()).isEqualTo(CloseReason.LIMIT);
    }

    @Test
    void anUnknownMechanismCountsAsABadCommandAndTheCancelReplyDoesNot() throws Exception {
        open("none", true);
        send("a FROB\r\nb FROB\r\nb2 FROB\r\n");
        assertThat(send("c AUTHENTICATE PLAIN\r\n*\r\n")).isEqualTo("+ \r\nc BAD Authentication cancelled\r\n");
        assertThat(send("d AUTHENTICATE CRAM-MD5\r\n"))
                .isEqualTo("d NO Unsupported authentication mechanism\r\n* BYE Too many errors\r\n");
    }

    // ---- other commands

    @Test
    void noopAndUnknownAndAuthenticatedStateCommands() throws Exception {
        open("none", true);
        assertThat(send("a NOOP\r\n")).isEqualTo("a OK NOOP completed\r\n");
        assertThat(send("b SELECT INBOX\r\n")).isEqualTo("b BAD Command not valid in this state\r\n");
        assertThat(send("c FROBNICATE\r\n")).isEqualTo("c BAD Unknown command\r\n");
        assertThat(send("d NOOP extra\r\n")).isEqualTo("d BAD Unexpected arguments\r\n");
    }

    @Test
    void badTagGetsAnUntaggedBad() throws Exception {
        open("none", true);
        assertThat(send("a+ NOOP\r\n")).isEqualTo("* BAD Invalid tag\r\n");
    }

    @Test
    void tooManyBadCommandsCloseTheConnection() throws Exception {
        open("none", true);
        send("a X\r\nb X\r\nc X\r\n");
        assertThat(ch.isOpen()).isTrue();
        assertThat(send("d X\r\ne NOOP\r\n")).isEqualTo("d BAD Unknown command\r\n* BYE Too many errors\r\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.LIMIT);
    }

    @Test
    void idAnswersWithPosternsOwnAndChecksTheClients() throws Exception {
        open("none", true);
        assertThat(send("a ID (\"name\" \"Thunderbird\" \"version\" \"128.0\")\r\n"))
                .isEqualTo("* ID (\"name\" \"Postern\")\r\na OK ID completed\r\n");
        assertThat(send("b ID NIL\r\n")).isEqualTo("* ID (\"name\" \"Postern\")\r\nb OK ID completed\r\n");
        assertThat(send("c ID (\"name\")\r\n")).isEqualTo("c BAD ID list needs field and value pairs\r\n");
        assertThat(send("d ID (\"" + "x".repeat(31) + "\" NIL)\r\n")).isEqualTo("d BAD ID field or value too long\r\n");
    }

    @Test
    void logoutSaysByeThenOkThenCloses() throws Exception {
        open("none", true);
        assertThat(send("z LOGOUT\r\n")).isEqualTo("* BYE Logging out\r\nz OK LOGOUT completed\r\n");
        assertThat(ch.isOpen()).isFalse();
    }

    // ---- limits and timeouts

    @Test
    void preAuthTimeoutSaysAutologout() throws Exception {
        open("none", true);
        ticker.advance(1900, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).isTrue();
        ticker.advance(200, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(replies()).isEqualTo("* BYE Autologout; idle for too long\r\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.PRE_AUTH_TIMEOUT);
    }

    @Test
    void tooLongLineSaysByeAndCloses() throws Exception {
        open("none", true);
        assertThat(send("a NOOP " + "x".repeat(600) + "\r\n")).isEqualTo("* BYE Line too long\r\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.LIMIT);
    }

    @Test
    void oversizeSynchronizingLiteralIsBadAndTheSessionGoesOn() throws Exception {
        open("none", true);
        assertThat(send("a LOGIN alice {101}\r\n")).isEqualTo("a BAD Literal too big\r\n");
        assertThat(send("b NOOP\r\n")).isEqualTo("b OK NOOP completed\r\n");
    }

    @Test
    void oversizeNonSynchronizingLiteralClosesTheConnection() throws Exception {
        open("none", true);
        assertThat(send("a LOGIN alice {101+}\r\n")).isEqualTo("* BYE Literal too big\r\n");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aRefusedTokenGetsTheErrorStatusAsAContinuationThenNo() throws Exception {
        open("none", true);
        auth.answer = AuthResult.Rejected.token(
                "invalid_token: expired",
                OAuthError.invalidToken(Optional.empty(), Optional.of("https://id.example.test/.well-known/x")));
        String message = "n,a=alice,\u0001auth=Bearer expired\u0001\u0001";
        assertThat(send("a AUTHENTICATE OAUTHBEARER " + b64(message) + "\r\n"))
                .isEqualTo("+ "
                        + b64("{\"status\":\"invalid_token\","
                                + "\"openid-configuration\":\"https://id.example.test/.well-known/x\"}")
                        + "\r\n");
        assertThat(send("AQ==\r\n")).isEqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
        assertThat(auth.requests).hasSize(1);
        assertThat(send("b NOOP\r\n")).isEqualTo("b OK NOOP completed\r\n");
    }

    @Test
    void aTemporaryTokenFailureIsUnavailableWithoutAnErrorStatus() throws Exception {
        open("none", true);
        auth.answer = new AuthResult.Rejected("JWKS unavailable", true, Duration.ZERO);
        String message = "user=alice\u0001auth=Bearer t\u0001\u0001";
        assertThat(send("a AUTHENTICATE XOAUTH2 " + b64(message) + "\r\n"))
                .isEqualTo("a NO [UNAVAILABLE] Service temporarily unavailable, try again later\r\n");
    }
}
