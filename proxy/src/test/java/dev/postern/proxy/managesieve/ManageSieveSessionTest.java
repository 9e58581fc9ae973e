package dev.postern.proxy.managesieve;

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

/** The ManageSieve non-authenticated state on an embedded channel: no sockets, no backend. */
class ManageSieveSessionTest {
    private static final String DOVECOT_SIEVE = "\"SIEVE\" \"fileinto reject envelope vacation\"";

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
                          - {name: sieve, protocol: managesieve, bind: "127.0.0.1:1", pool: p, %s
                             timeouts: {pre-auth: 2s}, limits: {line-length: 512, sasl-line-length: 2KiB,
                             literal-size: 1KiB, bad-commands: 4, auth-failures: 2}}
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
                        new ManageSieveDecoder(
                                listener.limits().lineLength(),
                                listener.limits().saslLineLength(),
                                listener.limits().literalSize()))
                .addLast(
                        HandlerNames.SESSION,
                        new ManageSieveSession(services, listener, flow, new ManageSieveBackendDialogue(services)));
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
    void greetsWithACapabilityResponseThatListsTheBackendsSieveExtensions() throws Exception {
        capabilities.learned("p", Protocol.MANAGESIEVE, List.of(DOVECOT_SIEVE, "\"NOTIFY\" \"mailto\""));
        assertThat(plainAllowed())
                .isEqualTo("\"IMPLEMENTATION\" \"Postern\"\r\n"
                        + "\"SASL\" \"PLAIN LOGIN XOAUTH2 OAUTHBEARER\"\r\n"
                        + DOVECOT_SIEVE + "\r\n"
                        + "\"NOTIFY\" \"mailto\"\r\n"
                        + "\"VERSION\" \"1.0\"\r\n"
                        + "OK \"Postern ready.\"\r\n");
    }

    @Test
    void beforeAnythingIsLearnedTheRequiredSieveCapabilityIsEmpty() throws Exception {
        assertThat(plainAllowed()).contains("\"SIEVE\" \"\"\r\n");
    }

    @Test
    void capabilityAnswersTheSameListAndOk() throws Exception {
        String greeting = plainAllowed();
        assertThat(send("CAPABILITY"))
                .isEqualTo(greeting.replace("OK \"Postern ready.\"", "OK \"Capability completed.\""));
    }

    @Test
    void withoutTlsNoCredentialsAreTakenAndNoMechanismIsListed() throws Exception {
        assertThat(connect("")).contains("\"SASL\" \"\"\r\n").doesNotContain("STARTTLS");
        assertThat(send("AUTHENTICATE \"PLAIN\" \"" + b64("\0alice\0pw") + "\""))
                .isEqualTo(ManageSieveSession.PLAINTEXT_DISALLOWED + "\r\n");
        assertThat(requests).isEmpty();
    }

    @Test
    void authenticatePlainWithAnInitialResponseAsksTheAuthenticator() throws Exception {
        plainAllowed();
        assertThat(send("AUTHENTICATE \"PLAIN\" \"" + b64("\0alice@example.test\0pw with spaces") + "\""))
                .isEqualTo("NO \"Authentication failed.\"\r\n");
        assertThat(requests).hasSize(1);
        assertThat(requests.get(0).credentials())
                .isEqualTo(Credentials.password(SaslMechanism.PLAIN, "alice@example.test", "pw with spaces"));
        assertThat(requests.get(0).protocol()).isEqualTo(Protocol.MANAGESIEVE);
    }

    @Test
    void authenticateWithALiteralInitialResponse() throws Exception {
        plainAllowed();
        String ir = b64("\0bob\0secret");
        assertThat(send("authenticate \"plain\" {" + ir.length() + "+}", ir))
                .isEqualTo("NO \"Authentication failed.\"\r\n");
        assertThat(requests.get(0).credentials().user()).isEqualTo("bob");
    }

    @Test
    void authenticatePlainWithAnEmptyChallengeAnsweredByALiteral() throws Exception {
        plainAllowed();
        assertThat(send("AUTHENTICATE \"PLAIN\"")).isEqualTo("\"\"\r\n");
        String answer = b64("\0carol\0pw");
        assertThat(send("{" + answer.length() + "+}", answer)).isEqualTo("NO \"Authentication failed.\"\r\n");
        assertThat(requests.get(0).credentials().user()).isEqualTo("carol");
    }

    @Test
    void authenticateLoginAsksForUserAndPasswordInQuotedChallenges() throws Exception {
        plainAllowed();
        assertThat(send("AUTHENTICATE \"LOGIN\"")).isEqualTo("\"" + b64("Username:") + "\"\r\n");
        assertThat(send("\"" + b64("dave") + "\"")).isEqualTo("\"" + b64("Password:") + "\"\r\n");
        assertThat(send("\"" + b64("pw") + "\"")).isEqualTo("NO \"Authentication failed.\"\r\n");
        assertThat(requests.get(0).credentials().user()).isEqualTo("dave");
    }

    @Test
    void aStarCancelsTheExchangeAndAnUnknownMechanismIsRefused() throws Exception {
        plainAllowed();
        send("AUTHENTICATE \"PLAIN\"");
        assertThat(send("\"*\"")).isEqualTo("NO \"Authentication cancelled.\"\r\n");
        assertThat(send("AUTHENTICATE \"GSSAPI\"")).isEqualTo(ManageSieveSession.UNSUPPORTED + "\r\n");
        assertThat(send("AUTHENTICATE \"PLAIN\" \"!!!\"")).isEqualTo("NO \"invalid base64\"\r\n");
        assertThat(requests).isEmpty();
    }

    @Test
    void aRefusedTokenGetsTheErrorStatusAsAChallengeThenNo() throws Exception {
        verdict = AuthResult.Rejected.token(
                "invalid_token: bad signature", OAuthError.invalidToken(Optional.empty(), Optional.empty()));
        plainAllowed();
        String message = "n,a=alice,\u0001auth=Bearer forged\u0001\u0001";
        assertThat(send("AUTHENTICATE \"OAUTHBEARER\" \"" + b64(message) + "\""))
                .isEqualTo("\"" + b64("{\"status\":\"invalid_token\"}") + "\"\r\n");
        assertThat(send("\"AQ==\"")).isEqualTo("NO \"Authentication failed.\"\r\n");
        assertThat(requests).hasSize(1);
    }

    @Test
    void aTemporaryRejectionIsTryLater() throws Exception {
        verdict = new AuthResult.Rejected("directory down", true, Duration.ZERO);
        plainAllowed();
        assertThat(send("AUTHENTICATE \"PLAIN\" \"" + b64("\0alice\0pw") + "\""))
                .isEqualTo(ManageSieveSession.UNAVAILABLE + "\r\n");
    }

    @Test
    void scriptCommandsAndUnknownOnesAreRefusedBeforeLogin() throws Exception {
        plainAllowed();
        assertThat(send("LISTSCRIPTS")).isEqualTo("NO \"Authenticate first.\"\r\n");
        assertThat(send("PUTSCRIPT \"s\" {5+}", "keep;")).isEqualTo("NO \"Authenticate first.\"\r\n");
        assertThat(send("FROBNICATE")).isEqualTo("NO \"Unknown command.\"\r\n");
    }

    @Test
    void noopEchoesItsTag() throws Exception {
        plainAllowed();
        assertThat(send("NOOP")).isEqualTo("OK \"NOOP completed.\"\r\n");
        assertThat(send("NOOP \"STARTTLS-SYNC-42\"")).isEqualTo("OK (TAG \"STARTTLS-SYNC-42\") \"Done.\"\r\n");
    }

    @Test
    void startTlsOnAListenerWithoutTlsIsRefused() throws Exception {
        plainAllowed();
        assertThat(send("STARTTLS")).isEqualTo("NO \"STARTTLS is not available.\"\r\n");
    }

    @Test
    void logoutSaysOkAndCloses() throws Exception {
        plainAllowed();
        assertThat(send("LOGOUT")).isEqualTo("OK \"Logout completed.\"\r\n");
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.CLIENT_CLOSED);
    }

    @Test
    void tooManyBadCommandsSayByeAndClose() throws Exception {
        plainAllowed();
        assertThat(send("X", "X", "X")).isEqualTo("NO \"Unknown command.\"\r\n".repeat(3));
        assertThat(send("X")).isEqualTo("BYE \"Too many invalid commands or failed logins.\"\r\n");
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void tooManyFailedLoginsSayByeAndClose() throws Exception {
        plainAllowed();
        String auth = "AUTHENTICATE \"PLAIN\" \"" + b64("\0alice\0pw") + "\"";
        assertThat(send(auth)).isEqualTo("NO \"Authentication failed.\"\r\n");
        assertThat(send(auth))
                .isEqualTo("NO \"Authentication failed.\"\r\n"
                        + "BYE \"Too many invalid commands or failed logins.\"\r\n");
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aLiteralOverTheBoundSaysByeAndCloses() throws Exception {
        plainAllowed();
        assertThat(send("PUTSCRIPT \"s\" {2000+}")).isEqualTo("BYE \"Literal too big.\"\r\n");
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.LIMIT);
    }

    @Test
    void aTooLongLineSaysByeAndCloses() throws Exception {
        plainAllowed();
        assertThat(send("NOOP \"" + "x".repeat(600) + "\"")).isEqualTo("BYE \"Line too long.\"\r\n");
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void thePreAuthTimeoutSaysByeAndCloses() throws Exception {
        plainAllowed();
        ch.advanceTimeBy(3, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertThat(read()).isEqualTo("BYE \"Disconnected for inactivity.\"\r\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.PRE_AUTH_TIMEOUT);
    }

    @Test
    void commandsPipelinedBehindALoginWaitForItsOutcome() throws Exception {
        plainAllowed();
        assertThat(send("AUTHENTICATE \"PLAIN\" \"" + b64("\0a\0b") + "\"", "NOOP"))
                .isEqualTo("NO \"Authentication failed.\"\r\nOK \"NOOP completed.\"\r\n");
    }
}
