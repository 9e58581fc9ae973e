package dev.postern.proxy.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Backend;
import dev.postern.config.ConfigLoader;
import dev.postern.config.PosternConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The backend login dialogue against a scripted backend on an embedded channel. */
class Pop3BackendHandlerTest {
    private static final List<String> DOVECOT_CAPA = List.of(
            "+OK",
            "CAPA",
            "TOP",
            "UIDL",
            "RESP-CODES",
            "PIPELINING",
            "AUTH-RESP-CODE",
            "USER",
            "SASL PLAIN LOGIN",
            ".");

    private final BackendCapabilities capabilities = new BackendCapabilities();
    private final Promise<BackendLoginResult> result = ImmediateEventExecutor.INSTANCE.newPromise();
    private EmbeddedChannel client;
    private EmbeddedChannel backend;
    private Session session;

    @AfterEach
    void tearDown() {
        if (backend != null) {
            backend.finishAndReleaseAll();
        }
        if (client != null) {
            client.finishAndReleaseAll();
        }
    }

    /** Starts a dialogue with a backend configured by {@code options}, logging in with {@code credentials}. */
    private void start(String options, Credentials credentials, boolean probe) throws Exception {
        PosternConfig config = ConfigLoader.parse(
                """
                listeners:
                  - {name: p3, protocol: pop3, bind: "127.0.0.1:1", pool: p, allow-plaintext-auth: true}
                pools:
                  - {name: p, backends: [{address: "127.0.0.1:2", %s}]}
                """
                        .formatted(options),
                Path.of("."));
        PoolRuntime pool = new PoolRuntime(config.pools().get(0));
        Backend b = pool.backends().get(0).config();
        ProxyServices services = new ProxyServices(
                null, null, null, Map.of("p", pool), new SessionRegistry(Metrics.NOOP), capabilities, Metrics.NOOP);
        client = new EmbeddedChannel();
        session = services.sessions().open(config.listeners().get(0), client);
        Pop3BackendHandler handler = probe
                ? Pop3BackendHandler.probe(b, services, result)
                : Pop3BackendHandler.login(
                        session, new BackendLoginRequest(null, credentials, credentials.user(), b), services, result);
        backend = new EmbeddedChannel(false, false);
        handler.install(backend);
        backend.register();
    }

    private void login(String options, Credentials credentials) throws Exception {
        start(options, credentials, false);
    }

    private static Credentials alice() {
        return Credentials.password(SaslMechanism.LOGIN, "alice@example.test", "alice-pw");
    }

    /** The backend says {@code lines} (in one write); returns what the dialogue sent back. */
    private String backendSays(String... lines) {
        StringBuilder sb = new StringBuilder();
        for (String line : lines) {
            sb.append(line).append("\r\n");
        }
        backend.writeInbound(Unpooled.copiedBuffer(sb, StandardCharsets.UTF_8));
        return sent();
    }

    private String backendSays(List<String> lines) {
        return backendSays(lines.toArray(String[]::new));
    }

    private String sent() {
        StringBuilder sb = new StringBuilder();
        Object o;
        while ((o = backend.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) o;
            sb.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return sb.toString();
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void logsInWithAuthPlainWhenTheBackendOffersItAndRecordsItsCapabilities() throws Exception {
        login("", alice());
        assertThat(sent()).isEmpty();
        assertThat(backendSays("+OK Dovecot ready.")).isEqualTo("CAPA\r\n");
        assertThat(backendSays(DOVECOT_CAPA)).isEqualTo("AUTH PLAIN " + b64("\0alice@example.test\0alice-pw") + "\r\n");
        assertThat(result.isDone()).isFalse();
        backendSays("+OK Logged in.");
        assertThat(result.getNow()).isEqualTo(new BackendLoginResult.LoggedIn("+OK Logged in."));
        assertThat(capabilities.get("p", Protocol.POP3).orElseThrow())
                .containsExactly(
                        DOVECOT_CAPA.subList(1, DOVECOT_CAPA.size() - 1).toArray(String[]::new));
    }

    @Test
    void onceTheBackendGreetsNoTimerKeepsTheDialogue() throws Exception {
        login("", alice());
        backendSays("+OK Dovecot ready.");
        backendSays(DOVECOT_CAPA);
        backendSays("+OK Logged in.");
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.LoggedIn.class);
        // a timer still scheduled would hold the session, both channels and their pipelines until it fired
        assertThat(backend.runScheduledPendingTasks()).isEqualTo(-1);
    }

    @Test
    void aBackendThatNeverGreetsFailsAfterTheConnectTimeout() throws Exception {
        login("", alice());
        backend.advanceTimeBy(4_999, java.util.concurrent.TimeUnit.MILLISECONDS);
        backend.runScheduledPendingTasks();
        assertThat(result.isDone()).isFalse();
        backend.advanceTimeBy(1, java.util.concurrent.TimeUnit.MILLISECONDS);
        backend.runScheduledPendingTasks();
        assertThat(result.getNow()).isEqualTo(new BackendLoginResult.Failed("no greeting within 5000 ms", true));
    }

    @Test
    void fallsBackToUserAndPassWithoutSaslPlain() throws Exception {
        login("", alice());
        backendSays("+OK ready");
        assertThat(backendSays("+OK", "TOP", "USER", ".")).isEqualTo("USER alice@example.test\r\n");
        assertThat(backendSays("+OK")).isEqualTo("PASS alice-pw\r\n");
        backendSays("-ERR [AUTH] Authentication failed.");
        assertThat(result.getNow())
                .isEqualTo(new BackendLoginResult.Refused("-ERR [AUTH] Authentication failed.", false));
        assertThat(backend.isOpen()).isFalse();
    }

    @Test
    void aServerWithoutCapaGetsUserAndPass() throws Exception {
        login("", alice());
        backendSays("+OK ready");
        assertThat(backendSays("-ERR unknown command")).isEqualTo("USER alice@example.test\r\n");
    }

    @Test
    void sysTempIsATemporaryRefusal() throws Exception {
        login("", alice());
        backendSays("+OK ready");
        backendSays(DOVECOT_CAPA);
        backendSays("-ERR [SYS/TEMP] Temporary authentication failure.");
        assertThat(result.getNow())
                .isEqualTo(new BackendLoginResult.Refused("-ERR [SYS/TEMP] Temporary authentication failure.", true));
    }

    @Test
    void inUseIsTemporary() throws Exception {
        login("", alice());
        backendSays("+OK ready");
        backendSays(DOVECOT_CAPA);
        backendSays("-ERR [IN-USE] Mailbox locked");
        assertThat(((BackendLoginResult.Refused) result.getNow()).temporary()).isTrue();
    }

    @Test
    void aBadGreetingFailsTheDialogue() throws Exception {
        login("", alice());
        assertThat(backendSays("-ERR too many connections")).isEmpty();
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.Failed.class);
    }

    @Test
    void aMasterUserAuthorizesAsTheUser() throws Exception {
        login("master-user: proxy-master, master-password: master-pw", alice());
        backendSays("+OK ready");
        assertThat(backendSays(DOVECOT_CAPA))
                .isEqualTo("AUTH PLAIN " + b64("alice@example.test\0proxy-master\0master-pw") + "\r\n");
    }

    @Test
    void sendsXclientWhenTheGreetingOffersIt() throws Exception {
        login("identity: xclient", alice());
        backendSays("+OK [XCLIENT] Dovecot (Debian) ready.");
        assertThat(backendSays(DOVECOT_CAPA)).isEqualTo("XCLIENT SESSION=" + session.id() + "\r\n");
        assertThat(backendSays("+OK Updated")).startsWith("AUTH PLAIN ");
    }

    @Test
    void doesNotSendXclientWhenTheBackendDoesNotOfferIt() throws Exception {
        login("identity: xclient", alice());
        backendSays("+OK Dovecot ready.");
        assertThat(backendSays(DOVECOT_CAPA)).startsWith("AUTH PLAIN ");
    }

    @Test
    void sendsAProxyHeaderBeforeAnything() throws Exception {
        login("identity: proxy-v2", alice());
        byte[] header = sent().getBytes(StandardCharsets.ISO_8859_1);
        assertThat(header).startsWith(0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A);
        assertThat(backendSays("+OK ready")).isEqualTo("CAPA\r\n");
    }

    @Test
    void relaysATokenAndAnswersAnErrorChallenge() throws Exception {
        String message = "user=alice@example.test\u0001auth=Bearer t0k\u0001\u0001";
        Credentials token = new Credentials(
                SaslMechanism.XOAUTH2, "", "alice@example.test", "t0k", message.getBytes(StandardCharsets.UTF_8));
        login("", token);
        backendSays("+OK ready");
        assertThat(backendSays(DOVECOT_CAPA)).isEqualTo("AUTH XOAUTH2 " + b64(message) + "\r\n");
        assertThat(backendSays("+ " + b64("{\"status\":\"401\"}"))).isEqualTo("\r\n");
        backendSays("-ERR [AUTH] Authentication failed.");
        assertThat(result.getNow())
                .isEqualTo(new BackendLoginResult.Refused("-ERR [AUTH] Authentication failed.", false));
    }

    @Test
    void aLongInitialResponseGoesInAContinuation() throws Exception {
        String message = "user=alice@example.test\u0001auth=Bearer " + "t".repeat(300) + "\u0001\u0001";
        Credentials token = new Credentials(
                SaslMechanism.XOAUTH2, "", "alice@example.test", "x", message.getBytes(StandardCharsets.UTF_8));
        login("", token);
        backendSays("+OK ready");
        assertThat(backendSays(DOVECOT_CAPA)).isEqualTo("AUTH XOAUTH2\r\n");
        assertThat(backendSays("+ ")).isEqualTo(b64(message) + "\r\n");
        backendSays("+OK Logged in.");
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.LoggedIn.class);
    }

    @Test
    void aProbeLearnsTheCapabilitiesAndQuits() throws Exception {
        start("", null, true);
        backendSays("+OK ready");
        assertThat(backendSays(DOVECOT_CAPA)).isEqualTo("QUIT\r\n");
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.LoggedIn.class);
        assertThat(capabilities.get("p", Protocol.POP3).orElseThrow()).contains("TOP", "SASL PLAIN LOGIN");
    }

    @Test
    void xtextEncodesWhatIsNotPrintable() {
        assertThat(Pop3Xclient.xtext("a+b=c d\u00e9")).isEqualTo("a+2Bb+3Dc+20d+C3+A9");
        assertThat(Pop3Xclient.xtext("2001:db8::1")).isEqualTo("2001:db8::1");
    }
}
