package dev.postern.proxy.smtp.submission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Backend;
import dev.postern.config.ConfigLoader;
import dev.postern.config.PosternConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.login.BackendDialogueHandler;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The backend login dialogue on an embedded channel: what Postern sends for each backend reply, and the verdict. */
class SmtpBackendHandlerTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("203.0.113.7", 40000);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("192.0.2.1", 587);
    private static final Credentials ALICE = Credentials.password(SaslMechanism.PLAIN, "alice@example.test", "pw");

    private final BackendCapabilities capabilities = new BackendCapabilities();
    private final Promise<BackendLoginResult> result = new DefaultPromise<>(ImmediateEventExecutor.INSTANCE);
    private EmbeddedChannel client;
    private EmbeddedChannel backend;

    @AfterEach
    void tearDown() {
        if (backend != null) {
            backend.finishAndReleaseAll();
        }
        if (client != null) {
            client.finishAndReleaseAll();
        }
    }

    /** A dialogue with a backend configured by {@code backendOptions} (YAML flow-mapping entries). */
    private void start(String backendOptions, Credentials credentials, InetSocketAddress clientAddress, TlsManager tls)
            throws Exception {
        PosternConfig config = ConfigLoader.parse(
                """
                listeners:
                  - {name: sub, protocol: smtp, bind: "127.0.0.1:1", pool: p}
                pools:
                  - {name: p, backends: [{address: "127.0.0.1:2"%s}]}
                """
                        .formatted(backendOptions.isEmpty() ? "" : ", " + backendOptions),
                Path.of("."));
        Backend b = config.pools().get(0).backends().get(0);
        client = new EmbeddedChannel();
        Session session =
                new SessionRegistry(Metrics.NOOP).open(config.listeners().get(0), client);
        AuthRequest auth = new AuthRequest(
                credentials, Protocol.SMTP, "sub", clientAddress, LOCAL, null, null, 1, "s1", "client.example");
        BackendLoginRequest request = new BackendLoginRequest(auth, credentials, credentials.user(), b, "p");
        backend = new EmbeddedChannel(false, false);
        BackendDialogueHandler.install(
                backend,
                tls,
                b,
                new SmtpBackendHandler(session, request, tls, result, capabilities, EmbeddedSmtp.HOST));
        backend.register();
    }

    private void start(String backendOptions) throws Exception {
        start(backendOptions, ALICE, CLIENT, null);
    }

    /** The backend sends {@code text}; returns the lines Postern sent since. */
    private List<String> backendSays(String text) {
        backend.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
        backend.runPendingTasks();
        return sent();
    }

    private List<String> sent() {
        StringBuilder sb = new StringBuilder();
        Object o;
        while ((o = backend.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) o;
            sb.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        if (sb.length() == 0) {
            return List.of();
        }
        List<String> lines = new ArrayList<>(Arrays.asList(sb.toString().split("\r\n", -1)));
        assertThat(lines.remove(lines.size() - 1))
                .as("the last line ends with CRLF")
                .isEmpty();
        return lines;
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static final String EHLO_REPLY =
            "250-backend.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n";

    @Test
    void logsInWithAuthPlainAndRecordsTheKeywordsForThePool() throws Exception {
        start("");
        assertThat(backendSays("220 backend.test ESMTP\r\n")).containsExactly("EHLO proxy.test");
        assertThat(backendSays(EHLO_REPLY)).containsExactly("AUTH PLAIN " + b64("\0alice@example.test\0pw"));
        assertThat(capabilities.get("p", Protocol.SMTP))
                .hasValue(List.of("PIPELINING", "SIZE 1000", "AUTH PLAIN LOGIN", "8BITMIME"));
        assertThat(result.isDone()).isFalse();
        backendSays("235 2.7.0 Authentication successful\r\n");
        assertThat(result.getNow()).isEqualTo(new BackendLoginResult.LoggedIn(null));
        assertThat(backend.isOpen()).isTrue();
    }

    @Test
    void readsAMultiLineGreeting() throws Exception {
        start("");
        assertThat(backendSays("220-backend.test ESMTP\r\n")).isEmpty();
        assertThat(backendSays("220 more text\r\n")).containsExactly("EHLO proxy.test");
    }

    @Test
    void passesTheClientsAuthorizationIdentityOn() throws Exception {
        start("", new Credentials(SaslMechanism.PLAIN, "bob", "alice", "pw", null), CLIENT, null);
        backendSays("220 b\r\n");
        assertThat(backendSays(EHLO_REPLY)).containsExactly("AUTH PLAIN " + b64("bob\0alice\0pw"));
    }

    @Test
    void usesAuthLoginWhenTheBackendOffersNoPlain() throws Exception {
        start("");
        backendSays("220 b\r\n");
        assertThat(backendSays("250-b\r\n250 AUTH LOGIN\r\n")).containsExactly("AUTH LOGIN");
        assertThat(backendSays("334 VXNlcm5hbWU6\r\n")).containsExactly(b64("alice@example.test"));
        assertThat(backendSays("334 UGFzc3dvcmQ6\r\n")).containsExactly(b64("pw"));
        backendSays("235 ok\r\n");
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.LoggedIn.class);
    }

    @Test
    void aMasterUserLogsInWithPlainAndTheUserAsAuthorizationIdentity() throws Exception {
        start("master-user: proxy-master, master-password: master-pw");
        backendSays("220 b\r\n");
        assertThat(backendSays(EHLO_REPLY))
                .containsExactly("AUTH PLAIN " + b64("alice@example.test\0proxy-master\0master-pw"));
    }

    @Test
    void permanentAndTemporaryRefusals() throws Exception {
        start("");
        backendSays("220 b\r\n");
        backendSays(EHLO_REPLY);
        backendSays("535 5.7.8 Authentication failed\r\n");
        assertThat(result.getNow()).isEqualTo(new BackendLoginResult.Refused("535 5.7.8 Authentication failed", false));
        assertThat(backend.isOpen()).isFalse();
    }

    @Test
    void aTemporaryRefusalSaysSo() throws Exception {
        start("");
        backendSays("220 b\r\n");
        backendSays(EHLO_REPLY);
        backendSays("454 4.7.0 Temporary authentication failure\r\n");
        assertThat(result.getNow())
                .isEqualTo(new BackendLoginResult.Refused("454 4.7.0 Temporary authentication failure", true));
    }

    @Test
    void anUnexpectedAnswerToAuthFailsTheDialogue() throws Exception {
        start("");
        backendSays("220 b\r\n");
        backendSays(EHLO_REPLY);
        backendSays("334 what?\r\n");
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.Failed.class);
    }

    @Test
    void aBadGreetingFailsTheDialogue() throws Exception {
        start("");
        backendSays("554 5.3.2 go away\r\n");
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.Failed.class);
        assertThat(((BackendLoginResult.Failed) result.getNow()).reason()).contains("554");
    }

    @Test
    void somethingThatIsNotSmtpFailsTheDialogue() throws Exception {
        start("");
        backendSays("* OK IMAP4rev1 ready\r\n");
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.Failed.class);
    }

    @Test
    void aBackendWithoutUsableAuthFailsTheDialogue() throws Exception {
        start("");
        backendSays("220 b\r\n");
        backendSays("250-b\r\n250 AUTH CRAM-MD5\r\n");
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.Failed.class);
    }

    @Test
    void sendsXclientWithTheAttributesTheBackendListsThenEhloAgain() throws Exception {
        start("identity: xclient");
        backendSays("220 b\r\n");
        assertThat(backendSays("250-b\r\n250-AUTH PLAIN\r\n250 XCLIENT ADDR PORT PROTO HELO LOGIN SESSION TTL\r\n"))
                .containsExactly(
                        "XCLIENT ADDR=203.0.113.7 PORT=40000 HELO=client.example LOGIN=alice@example.test PROTO=ESMTP");
        assertThat(backendSays("220 b ready\r\n")).containsExactly("EHLO proxy.test");
        assertThat(backendSays("250-b\r\n250-AUTH PLAIN\r\n250 XCLIENT ADDR PORT PROTO HELO LOGIN\r\n"))
                .containsExactly("AUTH PLAIN " + b64("\0alice@example.test\0pw"));
    }

    @Test
    void xclientValuesAreXtextAndIpv6IsTagged() throws Exception {
        start(
                "identity: xclient",
                Credentials.password(SaslMechanism.PLAIN, "a+b=c d", "pw"),
                new InetSocketAddress("2001:db8::1", 5),
                null);
        backendSays("220 b\r\n");
        assertThat(backendSays("250-b\r\n250-AUTH PLAIN\r\n250 XCLIENT NAME ADDR LOGIN\r\n"))
                .containsExactly("XCLIENT ADDR=IPV6:2001:db8:0:0:0:0:0:1 NAME=[UNAVAILABLE] LOGIN=a+2Bb+3Dc+20d");
    }

    @Test
    void withoutXclientOnTheBackendTheLoginGoesOn() throws Exception {
        start("identity: xclient");
        backendSays("220 b\r\n");
        assertThat(backendSays(EHLO_REPLY)).containsExactly("AUTH PLAIN " + b64("\0alice@example.test\0pw"));
    }

    @Test
    void aRefusedXclientFailsTheDialogue() throws Exception {
        start("identity: xclient");
        backendSays("220 b\r\n");
        backendSays("250-b\r\n250 XCLIENT ADDR\r\n");
        backendSays("550 5.7.0 Error: insufficient authorization\r\n");
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.Failed.class);
    }

    @Test
    void relaysATokenAndEndsARefusedOneWithAnEmptyLine() throws Exception {
        byte[] raw = "user=alice\u0001auth=Bearer tok\u0001\u0001".getBytes(StandardCharsets.UTF_8);
        start("", new Credentials(SaslMechanism.XOAUTH2, "", "alice", "tok", raw), CLIENT, null);
        backendSays("220 b\r\n");
        assertThat(backendSays("250-b\r\n250 AUTH PLAIN XOAUTH2\r\n"))
                .containsExactly("AUTH XOAUTH2 " + Base64.getEncoder().encodeToString(raw));
        assertThat(backendSays("334 eyJzdGF0dXMiOiI0MDEifQ==\r\n")).containsExactly("");
        backendSays("535 5.7.8 Username and Password not accepted\r\n");
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.Refused.class);
        assertThat(((BackendLoginResult.Refused) result.getNow()).temporary()).isFalse();
    }

    @Test
    void sendsAProxyHeaderFirst() throws Exception {
        start("identity: proxy-v2");
        ByteBuf header = backend.readOutbound();
        try {
            byte[] signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
            byte[] start = new byte[12];
            header.getBytes(0, start);
            assertThat(start).isEqualTo(signature);
            assertThat(header.getByte(13)).isEqualTo((byte) 0x11); // TCP over IPv4
        } finally {
            header.release();
        }
        assertThat(backendSays("220 b\r\n")).containsExactly("EHLO proxy.test");
    }

    @Test
    void startTlsDropsWhatTheBackendSentAfterItsGoAheadAndHandshakes() throws Exception {
        TlsManager tls = EmbeddedSmtp.selfSignedTls();
        start("tls: starttls, tls-verify: false", ALICE, CLIENT, tls);
        backendSays("220 b\r\n");
        assertThat(backendSays(EHLO_REPLY.replace("250 8BITMIME", "250 STARTTLS")))
                .containsExactly("STARTTLS");
        backend.writeInbound(Unpooled.copiedBuffer("220 go\r\n250 injected\r\n", StandardCharsets.US_ASCII));
        assertThat(backend.pipeline().get(HandlerNames.BACKEND_TLS)).isInstanceOf(SslHandler.class);
        ByteBuf hello = backend.readOutbound();
        try {
            assertThat(hello.getByte(0)).as("a TLS handshake record").isEqualTo((byte) 0x16);
        } finally {
            hello.release();
        }
        assertThat(result.isDone())
                .as("the injected reply was not taken for an answer")
                .isFalse();
    }

    @Test
    void aStartTlsBackendThatDoesNotOfferItFailsTheDialogue() throws Exception {
        start("tls: starttls");
        backendSays("220 b\r\n");
        backendSays(EHLO_REPLY);
        assertThat(result.getNow()).isInstanceOf(BackendLoginResult.Failed.class);
    }
}
