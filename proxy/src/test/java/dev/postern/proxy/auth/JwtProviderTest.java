package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.postern.config.BearerErrorConfig;
import dev.postern.config.JwtProviderConfig;
import dev.postern.config.Protocol;
import dev.postern.config.Secret;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens minted here, checked against a key set the test controls, on a clock the test moves. */
class JwtProviderTest {
    private static final String ISSUER = "https://id.example.test";
    private static final String AUDIENCE = "postern";
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    private static RSAKey rsa;
    private static RSAKey rotated;
    private static ECKey ec;

    private final MovableClock clock = new MovableClock(NOW);
    private final AtomicReference<JWKSet> published = new AtomicReference<>();
    private final AtomicInteger fetches = new AtomicInteger();

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() throws Exception {
        rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        rotated = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
        ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    }

    @BeforeEach
    void publish() {
        published.set(new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK())));
    }

    private JwtProviderConfig config(List<String> algorithms, Optional<Secret> secret) {
        return new JwtProviderConfig(
                "tokens",
                Optional.of(URI.create("https://id.example.test/jwks")),
                Optional.empty(),
                ISSUER,
                AUDIENCE,
                algorithms,
                "email",
                Duration.ofSeconds(60),
                Duration.ofSeconds(2),
                true,
                secret);
    }

    private JwtProvider provider() {
        return provider(config(JwtProviderConfig.DEFAULT_ALGORITHMS, Optional.empty()));
    }

    private JwtProvider provider(JwtProviderConfig config) {
        return new JwtProvider(config, this::fetch, clock);
    }

    private CompletionStage<JWKSet> fetch() {
        fetches.incrementAndGet();
        return CompletableFuture.completedFuture(published.get());
    }

    private static JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .audience(List.of(AUDIENCE, "other"))
                .subject("u-1")
                .claim("email", "Alice@Example.test")
                .issueTime(Date.from(NOW))
                .expirationTime(Date.from(NOW.plusSeconds(600)));
    }

    private static String sign(JWSAlgorithm alg, JWK key, JWSSigner signer, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(alg)
                        .keyID(key == null ? null : key.getKeyID())
                        .type(JOSEObjectType.JWT)
                        .build(),
                claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    private static String rs256(RSAKey key, JWTClaimsSet claims) throws Exception {
        return sign(JWSAlgorithm.RS256, key, new RSASSASigner(key), claims);
    }

    private static AuthRequest token(SaslMechanism mechanism, String user, String token) {
        return new AuthRequest(
                new Credentials(mechanism, "", user, token, null),
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

    private static Optional<AuthResult> ask(JwtProvider provider, AuthRequest request) throws Exception {
        return provider.authenticate(request).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static String refusal(JwtProvider provider, String token) throws Exception {
        Optional<AuthResult> result = ask(provider, token(SaslMechanism.XOAUTH2, "alice@example.test", token));
        assertThat(result).get().isInstanceOf(AuthResult.Rejected.class);
        AuthResult.Rejected r = (AuthResult.Rejected) result.get();
        assertThat(r.temporary()).as(r.reason()).isFalse();
        assertThat(r.tokenError()).as("the client is told invalid_token").hasValueSatisfying(e -> assertThat(e.status())
                .isEqualTo("invalid_token"));
        return r.reason();
    }

    @Test
    void aValidTokenIsAcceptedForTheClaimsUserUntilItExpires() throws Exception {
        for (SaslMechanism mechanism : List.of(SaslMechanism.XOAUTH2, SaslMechanism.OAUTHBEARER)) {
            Optional<AuthResult> result =
                    ask(provider(), token(mechanism, "alice@example.test", rs256(rsa, claims().build())));
            assertThat(result).get().isInstanceOf(AuthResult.Accepted.class);
            AuthResult.Accepted accepted = (AuthResult.Accepted) result.get();
            assertThat(accepted.user()).isEqualTo("Alice@Example.test");
            assertThat(accepted.validFor()).contains(Duration.ofSeconds(660));
            assertThat(accepted.backendCredentials()).isEmpty();
        }
    }

    @Test
    void es256AndPs256TokensAreAccepted() throws Exception {
        String es = sign(JWSAlgorithm.ES256, ec, new ECDSASigner(ec), claims().build());
        String ps = sign(JWSAlgorithm.PS256, rsa, new RSASSASigner(rsa), claims().build());
        for (String t : List.of(es, ps)) {
            assertThat(ask(provider(), token(SaslMechanism.XOAUTH2, "alice@example.test", t)))
                    .get()
                    .isInstanceOf(AuthResult.Accepted.class);
        }
    }

    @Test
    void expiredAndNotYetValidTokensAreRefusedBeyondTheSkew() throws Exception {
        JwtProvider provider = provider();
        String expired = rs256(
                rsa, claims().expirationTime(Date.from(NOW.minusSeconds(61))).build());
        assertThat(refusal(provider, expired)).contains("expired");
        String justExpired = rs256(
                rsa, claims().expirationTime(Date.from(NOW.minusSeconds(30))).build());
        assertThat(ask(provider, token(SaslMechanism.XOAUTH2, "alice@example.test", justExpired)))
                .as("within the 60 s skew")
                .get()
                .isInstanceOf(AuthResult.Accepted.class);
        String early = rs256(
                rsa, claims().notBeforeTime(Date.from(NOW.plusSeconds(120))).build());
        assertThat(refusal(provider, early)).contains("not yet valid");
        String noExpiry = rs256(rsa, claims().expirationTime(null).build());
        assertThat(refusal(provider, noExpiry)).contains("no expiry");
    }

    @Test
    void wrongAudienceIssuerOrUserAreRefused() throws Exception {
        JwtProvider provider = provider();
        assertThat(refusal(
                        provider, rs256(rsa, claims().audience("someone-else").build())))
                .contains("audience");
        assertThat(refusal(
                        provider,
                        rs256(rsa, claims().issuer("https://evil.example").build())))
                .contains("issuer");
        assertThat(refusal(
                        provider,
                        rs256(rsa, claims().claim("email", "bob@example.test").build())))
                .contains("another user");
        assertThat(refusal(provider, rs256(rsa, claims().claim("email", null).build())))
                .contains("no email claim");
    }

    @Test
    void anUnsignedTokenIsRefused() throws Exception {
        String none = new PlainJWT(claims().build()).serialize();
        assertThat(refusal(provider(), none)).contains("alg none");
    }

    @Test
    void anHs256TokenSignedWithThePublicKeyIsRefused() throws Exception {
        // the classic confusion attack: the RSA public key's bytes as an HMAC secret
        byte[] publicKey = rsa.toPublicKey().getEncoded();
        String forged = sign(JWSAlgorithm.HS256, rsa, new MACSigner(publicKey), claims().build());
        assertThat(refusal(provider(), forged)).contains("HS256 is not allowed");

        // even with HS256 allowed, only the configured secret verifies
        Secret secret = Secret.of("a shared secret of at least thirty-two bytes");
        JwtProvider withSecret = provider(config(List.of("RS256", "HS256"), Optional.of(secret)));
        assertThat(refusal(withSecret, forged)).contains("bad signature");
        String good = sign(
                JWSAlgorithm.HS256,
                null,
                new MACSigner(secret.reveal().getBytes(StandardCharsets.UTF_8)),
                claims().build());
        assertThat(ask(withSecret, token(SaslMechanism.XOAUTH2, "alice@example.test", good)))
                .get()
                .isInstanceOf(AuthResult.Accepted.class);
    }

    @Test
    void aTamperedPayloadIsRefused() throws Exception {
        String[] parts = rs256(rsa, claims().build()).split("\\.");
        String payload = claims().claim("email", "alice@example.test")
                .claim("admin", true)
                .build()
                .toString();
        String tampered = parts[0] + "." + Base64URL.encode(payload) + "." + parts[2];
        assertThat(refusal(provider(), tampered)).contains("bad signature");
    }

    @Test
    void anUnknownKeyIdIsRefetchedOnceThenRefusedAndRefetchesAreRateLimited() throws Exception {
        JwtProvider provider = provider();
        ask(provider, token(SaslMechanism.XOAUTH2, "alice@example.test", rs256(rsa, claims().build())));
        assertThat(fetches).hasValue(1);

        String unknown = rs256(rotated, claims().build());
        assertThat(refusal(provider, unknown)).contains("no key rsa-2");
        assertThat(fetches).as("the set was fetched just now").hasValue(1);

        clock.advance(JwtProvider.MIN_REFETCH);
        assertThat(refusal(provider, unknown)).contains("no key rsa-2");
        assertThat(fetches).as("the unknown kid made it look again").hasValue(2);
        assertThat(refusal(provider, unknown)).contains("no key rsa-2");
        assertThat(fetches).as("not again within 30 s").hasValue(2);

        clock.advance(JwtProvider.MIN_REFETCH);
        refusal(provider, unknown);
        assertThat(fetches).hasValue(3);
    }

    @Test
    void aRotatedKeyIsAcceptedAfterTheRefetchWithoutARestart() throws Exception {
        JwtProvider provider = provider();
        ask(provider, token(SaslMechanism.XOAUTH2, "alice@example.test", rs256(rsa, claims().build())));

        published.set(new JWKSet(List.of(rotated.toPublicJWK())));
        clock.advance(JwtProvider.MIN_REFETCH);
        assertThat(ask(provider, token(SaslMechanism.XOAUTH2, "alice@example.test", rs256(rotated, claims().build()))))
                .get()
                .isInstanceOf(AuthResult.Accepted.class);
    }

    @Test
    void anUnreachableJwksIsATemporaryFailure() throws Exception {
        JwtProvider provider = new JwtProvider(
                config(JwtProviderConfig.DEFAULT_ALGORITHMS, Optional.empty()),
                () -> CompletableFuture.failedFuture(new IOException("connection refused")),
                clock);
        Optional<AuthResult> result =
                ask(provider, token(SaslMechanism.XOAUTH2, "alice@example.test", rs256(rsa, claims().build())));
        assertThat(result).get().isInstanceOfSatisfying(AuthResult.Rejected.class, r -> {
            assertThat(r.temporary()).isTrue();
            assertThat(r.tokenError())
                    .as("a temporary failure is no invalid_token")
                    .isEmpty();
        });
    }

    @Test
    void passwordsAndOpaqueTokensAreLeftToTheNextProvider() throws Exception {
        assertThat(ask(provider(), Requests.login("alice@example.test", "pw"))).isEmpty();
        assertThat(ask(provider(), token(SaslMechanism.XOAUTH2, "alice@example.test", "ya29.opaque-token")))
                .isEmpty();
        assertThat(fetches).hasValue(0);
    }

    @Test
    void theKeySetIsFetchedOverHttpAndFromAFile() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        AtomicInteger served = new AtomicInteger();
        server.createContext("/jwks", exchange -> {
            served.incrementAndGet();
            byte[] body = published.get().toString().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/jwk-set+json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        ExecutorService executor = Executors.newFixedThreadPool(2);
        try {
            URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/jwks");
            JwtProviderConfig base = config(JwtProviderConfig.DEFAULT_ALGORITHMS, Optional.empty());
            JwtProviderConfig overHttp = new JwtProviderConfig(
                    base.name(),
                    Optional.of(url),
                    Optional.empty(),
                    ISSUER,
                    AUDIENCE,
                    base.algorithms(),
                    "email",
                    base.clockSkew(),
                    base.timeout(),
                    true,
                    Optional.empty());
            JwtProvider http = new JwtProvider(overHttp, JwksFetcher.of(overHttp, executor), clock);
            assertThat(ask(http, token(SaslMechanism.XOAUTH2, "alice@example.test", rs256(rsa, claims().build()))))
                    .get()
                    .isInstanceOf(AuthResult.Accepted.class);
            assertThat(served).hasValue(1);

            Path file =
                    Files.writeString(dir.resolve("jwks.json"), published.get().toString());
            JwtProviderConfig fromFile = new JwtProviderConfig(
                    base.name(),
                    Optional.empty(),
                    Optional.of(file),
                    ISSUER,
                    AUDIENCE,
                    base.algorithms(),
                    "email",
                    base.clockSkew(),
                    base.timeout(),
                    true,
                    Optional.empty());
            JwtProvider local = new JwtProvider(fromFile, JwksFetcher.of(fromFile, executor), clock);
            assertThat(ask(local, token(SaslMechanism.XOAUTH2, "alice@example.test", rs256(rsa, claims().build()))))
                    .get()
                    .isInstanceOf(AuthResult.Accepted.class);
        } finally {
            server.stop(0);
            executor.shutdownNow();
        }
    }

    @Test
    void aNotBeforeWithinTheSkewIsAccepted() throws Exception {
        String soon = rs256(
                rsa, claims().notBeforeTime(Date.from(NOW.plusSeconds(30))).build());
        assertThat(ask(provider(), token(SaslMechanism.OAUTHBEARER, "alice@example.test", soon)))
                .get()
                .isInstanceOf(AuthResult.Accepted.class);
    }

    @Test
    void refusalsCarryTheConfiguredScopeAndDiscoveryUrl() throws Exception {
        JwtProviderConfig base = config(JwtProviderConfig.DEFAULT_ALGORITHMS, Optional.empty());
        JwtProviderConfig withHints = new JwtProviderConfig(
                base.name(),
                base.jwksUrl(),
                base.jwksFile(),
                ISSUER,
                AUDIENCE,
                base.algorithms(),
                base.userClaim(),
                base.clockSkew(),
                base.timeout(),
                true,
                Optional.empty(),
                new BearerErrorConfig(
                        Optional.of("mail"),
                        Optional.of(URI.create("https://id.example.test/.well-known/openid-configuration"))));
        String expired = rs256(
                rsa, claims().expirationTime(Date.from(NOW.minusSeconds(600))).build());
        AuthResult.Rejected r = (AuthResult.Rejected)
                ask(provider(withHints), token(SaslMechanism.OAUTHBEARER, "alice@example.test", expired))
                        .orElseThrow();
        assertThat(r.tokenError().orElseThrow().json(SaslMechanism.OAUTHBEARER))
                .isEqualTo("{\"status\":\"invalid_token\",\"scope\":\"mail\",\"openid-configuration\":"
                        + "\"https://id.example.test/.well-known/openid-configuration\"}");
    }
}
