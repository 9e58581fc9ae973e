package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.AuthProviderConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.session.ClientCertificate;
import dev.postern.proxy.testing.TestUsers;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the auth chain and its providers make of a login by client certificate (SASL EXTERNAL). */
class ExternalLoginTest {
    private static final ClientCertificate ALICE = new ClientCertificate(
            "CN=Alice Liddell,O=Example",
            "CN=Example CA,O=Example",
            "1F2A",
            "0123456789abcdef0123456789abcdef01234567",
            "ab".repeat(32),
            Optional.of("alice@example.test"),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");

    private final ExecutorService hashes = Executors.newSingleThreadExecutor();
    private final ScheduledExecutorService checks = Executors.newSingleThreadScheduledExecutor();

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        hashes.shutdownNow();
        checks.shutdownNow();
    }

    private static AuthRequest external(String authzid, String user, ClientCertificate certificate) {
        return request(Credentials.external(authzid, user, certificate.sha256()), certificate);
    }

    private static AuthRequest request(Credentials credentials, ClientCertificate certificate) {
        return new AuthRequest(
                credentials,
                Protocol.IMAP,
                "imaps",
                new InetSocketAddress("192.0.2.10", 50123),
                new InetSocketAddress("198.51.100.1", 993),
                "TLSv1.3",
                "TLS_AES_128_GCM_SHA256",
                1,
                "s1",
                null,
                null,
                null,
                certificate);
    }

    private StaticFileProvider users() throws Exception {
        // alice's password is never sent here: a certificate login must not need it
        Path file = TestUsers.write(dir);
        return new StaticFileProvider(
                new AuthProviderConfig.StaticFile("local", file, Duration.ofMillis(50)),
                Set.of(),
                hashes,
                checks,
                true);
    }

    private static AuthResult decide(AuthChain chain, AuthRequest request) throws Exception {
        return chain.authenticate(request).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void theUsersFileAcceptsAKnownUserWithoutAPasswordAndDoesNotKnowAStranger() throws Exception {
        try (StaticFileProvider users = users()) {
            AuthChain chain = new AuthChain(List.of(users), false, null, Metrics.NOOP);

            assertThat(decide(chain, external("", "alice@example.test", ALICE)))
                    .isInstanceOfSatisfying(
                            AuthResult.Accepted.class, a -> assertThat(a.user()).isEqualTo("alice@example.test"));
            assertThat(decide(chain, external("", "carol@example.test", ALICE)))
                    .isInstanceOf(AuthResult.Rejected.class);
        }
    }

    @Test
    void anAuthzidOtherThanTheCertificatesUserIsRefusedBeforeAnyProviderIsAsked() throws Exception {
        try (StaticFileProvider users = users()) {
            AuthChain chain = new AuthChain(List.of(users), true, null, Metrics.NOOP);

            assertThat(decide(chain, external("bob@example.test", "alice@example.test", ALICE)))
                    .isInstanceOfSatisfying(AuthResult.Rejected.class, r -> assertThat(r.temporary())
                            .isFalse());
            assertThat(decide(chain, external("alice@example.test", "alice@example.test", ALICE)))
                    .as("the certificate's own user as authzid")
                    .isInstanceOf(AuthResult.Accepted.class);
        }
    }

    @Test
    void theBackendNeverDecidesACertificateLogin() throws Exception {
        AuthChain backendOnly = new AuthChain(List.of(), true, null, Metrics.NOOP);

        assertThat(decide(backendOnly, external("", "alice@example.test", ALICE)))
                .as("a backend would get no password")
                .isInstanceOf(AuthResult.Rejected.class);
        assertThat(decide(backendOnly, Requests.login("alice@example.test", "pw")))
                .isInstanceOf(AuthResult.PassThrough.class);
    }

    @Test
    void authHttpGetsNginxsCertificateHeadersAndNoPassword() {
        HttpHeaders h = new DefaultHttpHeaders();

        NginxAuthProtocol.requestHeaders(h, external("", "alice@example.test", ALICE));

        assertThat(h.get("Auth-Method")).isEqualTo("external");
        assertThat(h.get("Auth-User")).isEqualTo("alice@example.test");
        assertThat(h.get("Auth-Pass")).isEmpty();
        assertThat(h.get("Auth-SSL")).isEqualTo("on");
        assertThat(h.get("Auth-SSL-Verify")).isEqualTo("SUCCESS");
        assertThat(h.get("Auth-SSL-Subject")).isEqualTo("CN=Alice%20Liddell,O=Example");
        assertThat(h.get("Auth-SSL-Issuer")).isEqualTo("CN=Example%20CA,O=Example");
        assertThat(h.get("Auth-SSL-Serial")).isEqualTo("1F2A");
        assertThat(h.get("Auth-SSL-Fingerprint")).isEqualTo("0123456789abcdef0123456789abcdef01234567");
        assertThat(h.get("Auth-SSL-Cert")).startsWith("-----BEGIN%20CERTIFICATE-----%0A");
    }

    @Test
    void aPasswordLoginWithACertificateCarriesTheHeadersTooAndOneWithoutHasNone() {
        HttpHeaders with = new DefaultHttpHeaders();
        HttpHeaders without = new DefaultHttpHeaders();

        NginxAuthProtocol.requestHeaders(
                with, request(Credentials.password(SaslMechanism.PLAIN, "alice@example.test", "pw"), ALICE));
        NginxAuthProtocol.requestHeaders(without, Requests.login("alice@example.test", "pw"));

        assertThat(with.get("Auth-Method")).isEqualTo("plain");
        assertThat(with.get("Auth-Pass")).isEqualTo("pw");
        assertThat(with.get("Auth-SSL-Verify")).isEqualTo("SUCCESS");
        assertThat(without.get("Auth-SSL")).isEqualTo("on");
        assertThat(without.contains("Auth-SSL-Verify")).isFalse();
        assertThat(without.contains("Auth-SSL-Subject")).isFalse();
    }

    @Test
    void anAuthPassAnswerToACertificateLoginIsAPasswordForTheBackend() throws Exception {
        HttpHeaders answer = new DefaultHttpHeaders()
                .set("Auth-Status", "OK")
                .set("Auth-Server", "127.0.0.1")
                .set("Auth-Port", "143")
                .set("Auth-Pass", "backend-pw");

        NginxAuthProtocol.Answer a = NginxAuthProtocol.answer(answer, 200, external("", "alice@example.test", ALICE));

        assertThat(a.result())
                .isInstanceOfSatisfying(AuthResult.Accepted.class, ok -> assertThat(ok.backendCredentials())
                        .hasValueSatisfying(c -> {
                            assertThat(c.isExternal()).isFalse();
                            assertThat(c.secret()).isEqualTo("backend-pw");
                        }));
    }
}
