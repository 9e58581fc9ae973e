package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.postern.config.BearerErrorConfig;
import dev.postern.config.IntrospectionConfig;
import dev.postern.config.Protocol;
import dev.postern.config.Secret;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.testing.FreePorts;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The provider against an introspection endpoint served by the test, on a clock the test moves. */
class IntrospectionProviderTest {
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final String ISSUER = "https://id.example.test";

    private final MovableClock clock = new MovableClock(NOW);
    private final AtomicReference<String> answer = new AtomicReference<>();
    private final AtomicInteger status = new AtomicInteger(200);
    private final AtomicInteger requests = new AtomicInteger();
    private final List<String> authorizations = new ArrayList<>();
    private final List<String> bodies = new ArrayList<>();
    private HttpServer server;
    private ExecutorService executor;

    @BeforeEach
    void serve() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/introspect", exchange -> {
            requests.incrementAndGet();
            synchronized (bodies) {
                authorizations.add(exchange.getRequestHeaders().getFirst("Authorization"));
                bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            }
            byte[] body = answer.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(status.get(), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        executor = Executors.newFixedThreadPool(2);
    }

    @AfterEach
    void stop() {
        server.stop(0);
        executor.shutdownNow();
    }

    private IntrospectionConfig config(URI url, Optional<String> audience) {
        return new IntrospectionConfig(
                "introspect",
                url,
                "postern client",
                Secret.of("s3cret:&="),
                Optional.of(ISSUER),
                audience,
                Optional.empty(),
                Duration.ofSeconds(60),
                Duration.ofSeconds(2),
                true,
                Duration.ofMinutes(5),
                Duration.ofSeconds(30),
                new BearerErrorConfig(Optional.of("mail"), Optional.empty()));
    }

    private URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/introspect");
    }

    private IntrospectionProvider provider() {
        return provider(config(url(), Optional.of("mail")));
    }

    private IntrospectionProvider provider(IntrospectionConfig config) {
        return new IntrospectionProvider(config, IntrospectionClient.of(config, executor), clock);
    }

    private static String active(String user, Instant exp, String aud, String iss) {
        return "{\"active\":true,\"username\":\"%s\",\"sub\":\"u-1\",\"exp\":%d,\"aud\":%s,\"iss\":\"%s\",\"scope\":\"mail\"}"
                .formatted(user, exp.getEpochSecond(), aud, iss);
    }

    private static AuthRequest token(String user, String token) {
        return new AuthRequest(
                new Credentials(SaslMechanism.OAUTHBEARER, "", user, token, null),
                Protocol.IMAP,
                "imaps",
                new InetSocketAddress("192.0.2.10", 50123),
                new InetSocketAddress("198.51.100.1", 993),
                "TLSv1.3",
                "TLS_AES_128_GCM_SHA256",
                1,
                "s1",
                null);
    }

    private static Optional<AuthResult> ask(IntrospectionProvider provider, AuthRequest request) throws Exception {
        return provider.authenticate(request).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static String refusal(IntrospectionProvider provider, String token) throws Exception {
        AuthResult result = ask(provider, token("alice", token)).orElseThrow();
        assertThat(result).isInstanceOf(AuthResult.Rejected.class);
        AuthResult.Rejected r = (AuthResult.Rejected) result;
        assertThat(r.temporary()).isFalse();
        assertThat(r.tokenError()).hasValueSatisfying(e -> {
            assertThat(e.status()).isEqualTo("invalid_token");
            assertThat(e.scope()).contains("mail");
        });
        return r.reason();
    }

    @Test
    void anActiveTokenIsAcceptedAndTheClientCredentialsAreSent() throws Exception {
        answer.set(active("alice", NOW.plusSeconds(600), "[\"mail\",\"other\"]", ISSUER));
        AuthResult result = ask(provider(), token("alice", "opaque+token/=")).orElseThrow();
        assertThat(result).isInstanceOfSatisfying(AuthResult.Accepted.class, a -> {
            assertThat(a.user()).isEqualTo("alice");
            assertThat(a.validFor()).contains(Duration.ofSeconds(660));
        });
        String basic = new String(
                Base64.getDecoder().decode(authorizations.get(0).substring("Basic ".length())), StandardCharsets.UTF_8);
        assertThat(basic).as("RFC 6749 2.3.1: form-encoded, then Basic").isEqualTo("postern+client:s3cret%3A%26%3D");
        assertThat(URLDecoder.decode(bodies.get(0), StandardCharsets.UTF_8))
                .isEqualTo("token=opaque+token/=&token_type_hint=access_token");
        assertThat(bodies.get(0)).startsWith("token=opaque%2Btoken%2F%3D&");
    }

    @Test
    void anInactiveTokenIsRefusedAndTheRefusalIsCachedBriefly() throws Exception {
        answer.set("{\"active\":false}");
        IntrospectionProvider provider = provider();
        assertThat(refusal(provider, "revoked")).contains("not active");
        assertThat(refusal(provider, "revoked")).contains("not active");
        assertThat(requests).hasValue(1);
        clock.advance(Duration.ofSeconds(31));
        refusal(provider, "revoked");
        assertThat(requests)
                .as("after negative-ttl the endpoint is asked again")
                .hasValue(2);
    }

    @Test
    void expiredNotYetValidWrongAudienceIssuerOrUserAreRefused() throws Exception {
        answer.set(active("alice", NOW.minusSeconds(61), "\"mail\"", ISSUER));
        assertThat(refusal(provider(), "t1")).contains("expired");
        answer.set(active("alice", NOW.plusSeconds(600), "\"someone-else\"", ISSUER));
        assertThat(refusal(provider(), "t2")).contains("audience");
        answer.set(active("alice", NOW.plusSeconds(600), "\"mail\"", "https://evil.example"));
        assertThat(refusal(provider(), "t3")).contains("issuer");
        answer.set(active("bob", NOW.plusSeconds(600), "\"mail\"", ISSUER));
        assertThat(refusal(provider(), "t4")).contains("another user");
        answer.set("{\"active\":true,\"nbf\":%d,\"username\":\"alice\",\"iss\":\"%s\",\"aud\":\"mail\"}"
                .formatted(NOW.plusSeconds(120).getEpochSecond(), ISSUER));
        assertThat(refusal(provider(), "t5")).contains("not yet valid");
        answer.set("{\"active\":true,\"iss\":\"%s\",\"aud\":\"mail\"}".formatted(ISSUER));
        assertThat(refusal(provider(), "t6")).contains("no sub");
    }

    @Test
    void withoutUsernameTheSubjectNamesTheUser() throws Exception {
        answer.set("{\"active\":true,\"sub\":\"alice\",\"iss\":\"%s\",\"aud\":\"mail\"}".formatted(ISSUER));
        AuthResult result = ask(provider(), token("alice", "t")).orElseThrow();
        assertThat(result).isInstanceOfSatisfying(AuthResult.Accepted.class, a -> assertThat(a.validFor())
                .as("no exp: the cache-ttl")
                .contains(Duration.ofMinutes(5)));
    }

    @Test
    void anActiveAnswerIsCachedUntilTheTokenExpires() throws Exception {
        answer.set(active("alice", NOW.plusSeconds(120), "\"mail\"", ISSUER));
        IntrospectionProvider provider = provider();
        for (int i = 0; i < 3; i++) {
            assertThat(ask(provider, token("alice", "t"))).get().isInstanceOf(AuthResult.Accepted.class);
        }
        assertThat(requests).hasValue(1);
        clock.advance(Duration.ofSeconds(170));
        assertThat(ask(provider, token("alice", "t"))).get().isInstanceOf(AuthResult.Accepted.class);
        assertThat(requests).as("within exp and the skew").hasValue(1);
        ask(provider, token("alice", "another token"));
        assertThat(requests).as("another token is another entry").hasValue(2);

        clock.advance(Duration.ofSeconds(11));
        answer.set("{\"active\":false}");
        assertThat(refusal(provider, "t")).contains("not active");
        assertThat(requests).as("past exp the endpoint is asked again").hasValue(3);
    }

    @Test
    void aServerErrorIsATemporaryFailureAndNotCached() throws Exception {
        status.set(500);
        answer.set("{\"error\":\"oops\"}");
        IntrospectionProvider provider = provider();
        assertThatThrownBy(() -> ask(provider, token("alice", "t")))
                .isInstanceOf(ExecutionException.class)
                .hasMessageContaining("HTTP 500");
        status.set(200);
        answer.set(active("alice", NOW.plusSeconds(600), "\"mail\"", ISSUER));
        assertThat(ask(provider, token("alice", "t"))).get().isInstanceOf(AuthResult.Accepted.class);
        assertThat(requests).hasValue(2);
    }

    @Test
    void anUnreachableEndpointIsATemporaryFailure() throws Exception {
        URI nobody = URI.create("http://127.0.0.1:" + FreePorts.next() + "/introspect");
        IntrospectionProvider provider = provider(config(nobody, Optional.empty()));
        assertThatThrownBy(() -> ask(provider, token("alice", "t"))).isInstanceOf(ExecutionException.class);
    }

    @Test
    void anAnswerThatIsNotJsonIsATemporaryFailure() throws Exception {
        answer.set("<html>login</html>");
        assertThatThrownBy(() -> ask(provider(), token("alice", "t")))
                .isInstanceOf(ExecutionException.class)
                .hasMessageContaining("not a JSON object");
    }

    @Test
    void passwordsAreLeftToTheNextProvider() throws Exception {
        assertThat(ask(provider(), Requests.login("alice", "pw"))).isEmpty();
        assertThat(requests).hasValue(0);
    }
}
