package dev.postern.proxy.auth;

import static dev.postern.proxy.auth.Requests.login;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.config.AuthProviderConfig;
import dev.postern.config.Protocol;
import dev.postern.config.Secret;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.NginxAuthService;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.TestCertificates;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The http provider against a test auth service that speaks nginx's protocol. */
class HttpAuthProviderTest {
    private static Transport transport;
    private static DnsAddressResolverGroup resolver;

    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeAll
    static void startTransport() {
        transport = Transport.create(2, true);
        resolver = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .datagramChannelType(transport.datagramChannelType())
                .socketChannelType(transport.socketChannelType()));
    }

    @AfterAll
    static void stopTransport() {
        resolver.close();
        transport.close();
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private NginxAuthService service() {
        NginxAuthService s = NginxAuthService.start().user("alice@example.test", "alice pw%1");
        closing.add(s);
        return s;
    }

    private HttpAuthProvider provider(String url, Duration timeout, SslContext ssl) {
        HttpAuthProvider p = new HttpAuthProvider(
                new AuthProviderConfig.Http(
                        "directory", URI.create(url), timeout, Map.of("X-Auth-Key", Secret.of("k3y")), true, 4),
                transport.workerGroup(),
                transport.socketChannelType(),
                resolver,
                ssl);
        closing.add(p);
        return p;
    }

    private HttpAuthProvider provider(NginxAuthService s) {
        return provider(s.url("http"), Duration.ofSeconds(5), null);
    }

    private static AuthResult ask(HttpAuthProvider p, AuthRequest r) throws Exception {
        Optional<AuthResult> result = p.authenticate(r).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertThat(result).as("the http provider always decides").isPresent();
        return result.get();
    }

    @Test
    void sendsWhatNginxSends() throws Exception {
        NginxAuthService s = service();

        ask(provider(s), login("alice@example.test", "alice pw%1"));

        Map<String, String> h = s.requests.get(0);
        assertThat(h)
                .containsEntry(":method", "GET")
                .containsEntry(":path", "/mail-auth")
                .containsEntry("host", "localhost:" + s.port())
                .containsEntry("auth-method", "plain")
                .containsEntry("auth-user", "alice@example.test")
                .containsEntry("auth-pass", "alice%20pw%251")
                .containsEntry("auth-protocol", "imap")
                .containsEntry("auth-login-attempt", "1")
                .containsEntry("client-ip", "192.0.2.10")
                .containsEntry("auth-ssl", "on")
                .containsEntry("auth-ssl-protocol", "TLSv1.3")
                .containsEntry("auth-ssl-cipher", "TLS_AES_128_GCM_SHA256")
                .containsEntry("x-auth-key", "k3y")
                .doesNotContainKey("auth-smtp-helo")
                .doesNotContainKey("client-host");
    }

    @Test
    void smtpLoginsCarryTheEnvelopeFieldsEmptyBeforeMail() throws Exception {
        NginxAuthService s = service();
        AuthRequest smtp = new AuthRequest(
                Credentials.password(SaslMechanism.LOGIN, "alice@example.test", "pä ss"),
                Protocol.SMTP,
                "submission",
                new InetSocketAddress("2001:db8::7", 40000),
                new InetSocketAddress("127.0.0.1", 587),
                null,
                null,
                2,
                "s2",
                "client.example.org");

        ask(provider(s), smtp);

        assertThat(s.requests.get(0))
                .containsEntry("auth-protocol", "smtp")
                .containsEntry("auth-pass", "p%C3%A4%20ss")
                .containsEntry("auth-login-attempt", "2")
                .containsEntry("client-ip", "2001:db8:0:0:0:0:0:7")
                .containsEntry("client-host", "[UNAVAILABLE]")
                .containsEntry("auth-smtp-helo", "client.example.org")
                .containsEntry("auth-smtp-from", "")
                .containsEntry("auth-smtp-to", "")
                .doesNotContainKey("auth-ssl");
        assertThat(NginxAuthService.decode(s.requests.get(0).get("auth-pass"))).isEqualTo("pä ss");
    }

    @Test
    void okRoutesToTheNamedBackendWithItsCredentials() throws Exception {
        NginxAuthService s = service();
        s.behaviour = h -> NginxAuthService.Answer.of(
                "Auth-Status", "OK",
                "Auth-Server", "mail7.internal",
                "Auth-Port", "10143",
                "Auth-User", "alice",
                "Auth-Pass", "backend-secret");

        AuthResult r = ask(provider(s), login("alice@example.test", "alice pw%1"));

        assertThat(r).isInstanceOf(AuthResult.Accepted.class);
        AuthResult.Accepted a = (AuthResult.Accepted) r;
        assertThat(a.user()).isEqualTo("alice");
        assertThat(a.route()).contains(new AuthResult.RouteHint(null, "mail7.internal", 10143));
        assertThat(a.backendCredentials().orElseThrow().user()).isEqualTo("alice");
        assertThat(a.backendCredentials().orElseThrow().secret()).isEqualTo("backend-secret");
    }

    @Test
    void anErrorIsARefusalWithItsWait() throws Exception {
        NginxAuthService s = service();
        s.behaviour = h -> NginxAuthService.Answer.of("Auth-Status", "Invalid login or password", "Auth-Wait", "3");

        AuthResult r = ask(provider(s), login("alice@example.test", "nope"));

        assertThat(r).isEqualTo(new AuthResult.Rejected("Invalid login or password", false, Duration.ofSeconds(3)));
    }

    @Test
    void aTemporaryErrorCodeIsATemporaryRefusal() throws Exception {
        NginxAuthService s = service();
        s.behaviour =
                h -> NginxAuthService.Answer.of("Auth-Status", "Directory unavailable", "Auth-Error-Code", "451 4.3.0");

        AuthResult r = ask(provider(s), login("alice@example.test", "alice pw%1"));

        assertThat(r).isInstanceOfSatisfying(AuthResult.Rejected.class, x -> assertThat(x.temporary())
                .isTrue());
    }

    @Test
    void waitMeansAskAgainAfterAuthWait() throws Exception {
        NginxAuthService s = service();
        s.behaviour = h -> s.calls.get() < 3
                ? NginxAuthService.Answer.of("Auth-Status", "WAIT", "Auth-Wait", "0")
                : NginxAuthService.Answer.ok("127.0.0.1", 2143);

        AuthResult r = ask(provider(s), login("alice@example.test", "alice pw%1"));

        assertThat(r).isInstanceOf(AuthResult.Accepted.class);
        assertThat(s.calls).hasValue(3);
    }

    @Test
    void endlessWaitsEndInATemporaryRefusal() throws Exception {
        NginxAuthService s = service();
        s.behaviour = h -> NginxAuthService.Answer.of("Auth-Status", "WAIT");

        AuthResult r = ask(provider(s), login("alice@example.test", "alice pw%1"));

        assertThat(r).isInstanceOfSatisfying(AuthResult.Rejected.class, x -> assertThat(x.temporary())
                .isTrue());
        assertThat(s.calls).hasValue(HttpAuthProvider.MAX_WAITS);
    }

    @Test
    void aSilentServiceTimesOut() throws Exception {
        NginxAuthService s = service();
        s.behaviour = h -> NginxAuthService.SILENCE;
        HttpAuthProvider p = provider(s.url("http"), Duration.ofMillis(300), null);

        long start = System.nanoTime();
        CompletableFuture<Optional<AuthResult>> f =
                p.authenticate(login("alice@example.test", "x")).toCompletableFuture();

        assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(TimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void aDeadServiceFailsTheLogin() {
        HttpAuthProvider p = provider("http://127.0.0.1:" + FreePorts.closed() + "/auth", Duration.ofSeconds(2), null);

        assertThatThrownBy(() -> p.authenticate(login("alice@example.test", "x"))
                        .toCompletableFuture()
                        .get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(IOException.class);
    }

    @Test
    void anAnswerWithoutAuthStatusIsAnError() {
        NginxAuthService s = service();
        s.behaviour = h -> new NginxAuthService.Answer(500, Map.of());

        assertThatThrownBy(() -> ask(provider(s), login("alice@example.test", "x")))
                .hasRootCauseMessage("auth service answered HTTP 500 without Auth-Status");
    }

    @Test
    void connectionsAreKeptAlive() throws Exception {
        NginxAuthService s = service();
        HttpAuthProvider p = provider(s);

        for (int i = 0; i < 10; i++) {
            ask(p, login("alice@example.test", "alice pw%1"));
        }

        assertThat(s.calls).hasValue(10);
        assertThat(s.clientPorts.stream().distinct().count())
                .as("one connection for ten logins")
                .isEqualTo(1);
    }

    @Test
    void concurrentLoginsShareABoundedPool() throws Exception {
        NginxAuthService s = service();
        s.delay = Duration.ofMillis(20);
        HttpAuthProvider p = provider(s);
        List<CompletableFuture<Optional<AuthResult>>> all = new ArrayList<>();

        for (int i = 0; i < 40; i++) {
            all.add(p.authenticate(login("alice@example.test", "alice pw%1")).toCompletableFuture());
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

        assertThat(all).allMatch(f -> f.join().orElseThrow() instanceof AuthResult.Accepted);
        assertThat(s.clientPorts.stream().distinct().count())
                .as("max-connections: 4")
                .isLessThanOrEqualTo(4);
    }

    @Test
    void speaksHttpsVerifyingTheServiceCertificate() throws Exception {
        TestCertificates ca = TestCertificates.newAuthority();
        NginxAuthService s = NginxAuthService.startHttps(
                        ca.issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost"))
                .user("alice@example.test", "alice pw%1");
        closing.add(s);
        SslContext trusting = SslContextBuilder.forClient()
                .trustManager(ca.trustManagerFactory())
                .endpointIdentificationAlgorithm("HTTPS")
                .build();

        assertThat(ask(
                        provider(s.url("https"), Duration.ofSeconds(5), trusting),
                        login("alice@example.test", "alice pw%1")))
                .isInstanceOf(AuthResult.Accepted.class);
        assertThatThrownBy(() -> ask(
                        provider(s.url("https"), Duration.ofSeconds(5), HttpAuthProvider.clientContext(true)),
                        login("alice@example.test", "alice pw%1")))
                .as("not trusted by the JDK's store")
                .isInstanceOf(ExecutionException.class);
        assertThat(ask(
                        provider(s.url("https"), Duration.ofSeconds(5), HttpAuthProvider.clientContext(false)),
                        login("alice@example.test", "alice pw%1")))
                .as("tls-verify: false")
                .isInstanceOf(AuthResult.Accepted.class);
    }

    /** A raw auth service (for what the JDK's HTTP server will not send): {@code script} runs per connection. */
    private FakeLineBackend rawService(FakeLineBackend.Script script) {
        FakeLineBackend s = FakeLineBackend.start(script);
        closing.add(s);
        return s;
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Upgrade: HTTP/1.1\r\n", "Upgrade: h2c\r\nConnection: Upgrade\r\n"})
    void aSwitchOfProtocolsIsATemporaryFailureAndItsConnectionIsNeverAskedAgain(String upgrade) throws Exception {
        FakeLineBackend s = rawService(c -> {
            int asked = 0;
            String user;
            while ((user = NginxAuthService.rawRequest(c)) != null) {
                asked++;
                if (c.connection().number() > 1) {
                    c.write(NginxAuthService.rawAnswer("Auth-Status", "OK", "Auth-User", user));
                } else if (asked == 1) {
                    c.write("HTTP/1.1 101 Switching Protocols\r\n" + upgrade + "Auth-Status: OK\r\n\r\n");
                } else {
                    // what a connection asked again would take for the next login's answer
                    c.write(NginxAuthService.rawAnswer("Auth-Status", "OK", "Auth-User", "mallory"));
                }
            }
        });
        HttpAuthProvider p = provider("http://127.0.0.1:" + s.port() + "/auth", Duration.ofSeconds(5), null);

        assertThatThrownBy(() -> ask(p, login("alice@example.test", "x")))
                .as("a 101 is no login, whatever its headers say")
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IOException.class)
                .hasRootCauseMessage("auth service answered HTTP 101, which is no answer");
        AuthResult next = ask(p, login("bob@example.test", "y"));

        assertThat(next).isInstanceOfSatisfying(AuthResult.Accepted.class, a -> assertThat(a.user())
                .isEqualTo("bob@example.test"));
        assertThat(s.connectionCount()).as("the next login on a new connection").isEqualTo(2);
        assertThat(s.connections().get(0).lines())
                .as("one request on the first")
                .containsOnlyOnce("GET /auth HTTP/1.1");
        assertThat(s.failure()).isNull();
    }

    @Test
    void interimResponsesAreSkippedAndTheFinalOneAnswers() throws Exception {
        FakeLineBackend s = rawService(c -> {
            while (NginxAuthService.rawRequest(c) != null) {
                c.write("HTTP/1.1 100 Continue\r\n\r\n"
                        + "HTTP/1.1 102 Processing\r\nAuth-Status: OK\r\n\r\n"
                        + "HTTP/1.1 103 Early Hints\r\nAuth-Status: OK\r\nAuth-User: mallory\r\n\r\n"
                        + NginxAuthService.rawAnswer("Auth-Status", "Invalid login or password"));
            }
        });
        HttpAuthProvider p = provider("http://127.0.0.1:" + s.port() + "/auth", Duration.ofSeconds(5), null);

        for (int i = 0; i < 2; i++) {
            assertThat(ask(p, login("alice@example.test", "wrong")))
                    .isEqualTo(new AuthResult.Rejected("Invalid login or password", false, Duration.ZERO));
        }
        assertThat(s.connectionCount()).as("the connection kept alive").isEqualTo(1);
        assertThat(s.failure()).isNull();
    }
}
