package dev.postern.proxy.managesieve;

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

/** The ManageSieve backend login dialogue against a scripted backend on an embedded channel. */
class ManageSieveBackendHandlerTest {
    /** What Dovecot 2.3's managesieve-login greets with (the SIEVE line shortened). */
    private static final List<String> DOVECOT_GREETING = List.of(
            "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"",
            "\"SIEVE\" \"fileinto reject envelope vacation\"",
            "\"NOTIFY\" \"mailto\"",
            "\"SASL\" \"PLAIN LOGIN\"",
            "\"STARTTLS\"",
            "\"XCLIENT\"",
            "\"VERSION\" \"1.0\"",
            "OK \"Dovecot ready.\"");

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

    private void start(String options, Credentials credentials, boolean probe) throws Exception {
        PosternConfig config = ConfigLoader.parse(
                """
                listeners:
                  - {name: s, protocol: managesieve, bind: "127.0.0.1:1", pool: p, allow-plaintext-auth: true}
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
        ManageSieveBackendHandler handler = probe
                ? ManageSieveBackendHandler.probe(b, services, result)
                : ManageSieveBackendHandler.login(
                        session, new BackendLoginRequest(null, credentials, credentials.user(), b), services, result);
        backend = new EmbeddedChannel(false, false);
        handler.install(backend);
        backend.register();
    }

    private void login(String options, Credentials credentials) throws Exception {
        start(options, credentials, false);
    }

    private static Credentials alice() {
        return Credentials.password(SaslMechanism.PLAIN, "alice@example.test", "alice-pw");
    }

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
    void logsInWithPlainAndRecordsTheCapabilitiesWorthShowing() throws Exception {
        login("", alice());
        assertThat(sent()).isEmpty();
        assertThat(backendSays(DOVECOT_GREETING))
                .isEqualTo("AUTHENTICATE \"PLAIN\" \"" + b64("\0alice@example.test\0alice-pw") + "\"\r\n");
        assertThat(result.isDone()).isFalse();
        backendSays("OK \"Logged in.\"");
        assertThat(result.getNow()).isEqualTo(new BackendLoginResult.LoggedIn("OK \"Logged in.\""));
        assertThat(capabilities.get("p", Protocol.MANAGESIEVE).orElseThrow())
                .containsExactly("\"SIEVE\" \"fileinto reject envelope vacation\"", "\"NOTIFY\" \"mailto\"");
    }

    @Test
    void aRefusalIsRefused() throws Exception {
        login("", alice());
        backendSays(DOVECOT_GREETING);
        backendSays("NO \"Authentication failed.\"");
        assertThat(result.getNow()).isEqualTo(new BackendLoginResult.Refused("Authentication failed.", false));
        assertThat(backend.isOpen()).isFalse();
    }

    @Test
    void tryLaterIsATemporaryRefusal() throws Exception {
        login("", alice());
        backendSays(DOVECOT_GREETING);
        backendSays("NO (TRYLATER) \"Temporary failure.\"");
        assertThat(result.getNow()).isEqualTo(new BackendLoginResult.Refused("(TRYLATER) Temporary failure.", true));
    }

    @Test
    void aByeGreetingFailsTheDialogue() throws Exception {
        login("", alice());
        assertThat(backendSays("BYE \"Too many connections.\"")).isEmpty();
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.Failed.class);
    }

    @Test
    void aMasterUserAuthorizesAsTheUser() throws Exception {
        login("master-user: proxy-master, master-password: master-pw", alice());
        assertThat(backendSays(DOVECOT_GREETING))
                .isEqualTo("AUTHENTICATE \"PLAIN\" \"" + b64("alice@example.test\0proxy-master\0master-pw") + "\"\r\n");
    }

    @Test
    void sendsXclientWhenConfiguredAndOffered() throws Exception {
        login("identity: xclient", alice());
        assertThat(backendSays(DOVECOT_GREETING)).isEqualTo("XCLIENT SESSION=" + session.id() + "\r\n");
        assertThat(backendSays("OK")).startsWith("AUTHENTICATE \"PLAIN\" ");
    }

    @Test
    void startTlsIsRequiredWhenConfigured() throws Exception {
        login("tls: starttls, tls-verify: false", alice());
        List<String> withoutStartTls =
                DOVECOT_GREETING.stream().filter(l -> !l.equals("\"STARTTLS\"")).toList();
        backendSays(withoutStartTls);
        assertThat(result.getNow()).isEqualTo(new BackendLoginResult.Failed("backend does not offer STARTTLS"));
    }

    @Test
    void aLongTokenGoesInALiteralAndAnErrorChallengeIsAnswered() throws Exception {
        String message = "n,a=alice,\u0001auth=Bearer " + "t".repeat(1200) + "\u0001\u0001";
        Credentials token =
                new Credentials(SaslMechanism.OAUTHBEARER, "", "alice", "x", message.getBytes(StandardCharsets.UTF_8));
        login("", token);
        List<String> greeting = DOVECOT_GREETING.stream()
                .map(l -> l.startsWith("\"SASL\"") ? "\"SASL\" \"PLAIN OAUTHBEARER\"" : l)
                .toList();
        String encoded = b64(message);
        assertThat(backendSays(greeting))
                .isEqualTo("AUTHENTICATE \"OAUTHBEARER\" {" + encoded.length() + "+}\r\n" + encoded + "\r\n");
        assertThat(backendSays("{8}", b64("{}x.."))).isEqualTo("\"AQ==\"\r\n");
        backendSays("NO \"Authentication failed.\"");
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.Refused.class);
    }

    @Test
    void aMechanismTheBackendDoesNotOfferFailsWithoutSendingCredentials() throws Exception {
        login("", alice());
        List<String> greeting = DOVECOT_GREETING.stream()
                .map(l -> l.startsWith("\"SASL\"") ? "\"SASL\" \"GSSAPI\"" : l)
                .toList();
        assertThat(backendSays(greeting)).isEmpty();
        assertThat(result.getNow()).isEqualTo(new BackendLoginResult.Failed("backend does not offer SASL PLAIN"));
    }

    @Test
    void aProbeLearnsTheCapabilitiesAndLogsOut() throws Exception {
        start("", null, true);
        assertThat(backendSays(DOVECOT_GREETING)).isEqualTo("LOGOUT\r\n");
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.LoggedIn.class);
        assertThat(capabilities.get("p", Protocol.MANAGESIEVE).orElseThrow())
                .contains("\"NOTIFY\" \"mailto\"")
                .noneMatch(l -> l.contains("SASL") || l.contains("STARTTLS") || l.contains("IMPLEMENTATION"));
    }
}
