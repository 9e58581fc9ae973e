package dev.postern.config;

import static dev.postern.config.ConfigTexts.POOLS;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JwtProviderConfigTest {
    private static final String LISTENER =
            """
            listeners:
              - {name: imaps, protocol: imap, bind: 127.0.0.1:1993, tls: implicit, pool: dovecot, auth: [tokens]}
            """;

    @TempDir
    Path dir;

    private String auth(String provider) {
        return "auth:\n  providers:\n    - " + provider.strip().replace("\n", "\n      ") + "\n" + LISTENER + POOLS;
    }

    @Test
    void readsAUrlProviderWithItsDefaults() throws Exception {
        JwtProviderConfig p = (JwtProviderConfig) parse(
                        auth(
                                """
                        name: tokens
                        type: jwt
                        jwks: https://id.example.test/.well-known/jwks.json
                        issuer: https://id.example.test
                        audience: mail
                        """))
                .auth()
                .providers()
                .get(0);
        assertThat(p.jwksUrl()).contains(URI.create("https://id.example.test/.well-known/jwks.json"));
        assertThat(p.jwksFile()).isEmpty();
        assertThat(p.algorithms()).containsExactly("RS256", "ES256", "PS256");
        assertThat(p.userClaim()).isEqualTo("email");
        assertThat(p.clockSkew()).isEqualTo(Duration.ofSeconds(60));
        assertThat(p.timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(p.tlsVerify()).isTrue();
        assertThat(p.hmacSecret()).isEmpty();
        assertThat(p.bearerError()).isEqualTo(BearerErrorConfig.NONE);
    }

    @Test
    void readsAFileProviderWithEverySetting() throws Exception {
        Files.writeString(dir.resolve("jwks.json"), "{\"keys\":[]}");
        JwtProviderConfig p = (JwtProviderConfig) parse(
                        auth(
                                """
                                name: tokens
                                type: jwt
                                jwks: jwks.json
                                issuer: https://id.example.test
                                audience: mail
                                algorithms: [ES256, HS256]
                                hmac-secret: "${env:SECRET}"
                                user-claim: preferred_username
                                clock-skew: 10s
                                timeout: 2s
                                tls-verify: false
                                scope: https://mail.example.test/ mail
                                openid-configuration: https://id.example.test/.well-known/openid-configuration
                                """),
                        dir,
                        Map.of("SECRET", "0123456789abcdef0123456789abcdef"))
                .auth()
                .providers()
                .get(0);
        assertThat(p.jwksFile()).contains(dir.resolve("jwks.json"));
        assertThat(p.algorithms()).containsExactly("ES256", "HS256");
        assertThat(p.hmacSecret().orElseThrow().reveal()).isEqualTo("0123456789abcdef0123456789abcdef");
        assertThat(p.userClaim()).isEqualTo("preferred_username");
        assertThat(p.clockSkew()).isEqualTo(Duration.ofSeconds(10));
        assertThat(p.tlsVerify()).isFalse();
        assertThat(Optional.of(p.timeout())).contains(Duration.ofSeconds(2));
        assertThat(p.bearerError().scope()).contains("https://mail.example.test/ mail");
        assertThat(p.bearerError().openidConfiguration().map(Object::toString))
                .contains("https://id.example.test/.well-known/openid-configuration");
    }

    @Test
    void everyBadValueIsReportedWithItsPath() {
        List<String> found = problems(
                auth(
                        """
                name: tokens
                type: jwt
                jwks: ftp://id.example.test/jwks
                audience: mail
                algorithms: [none, HS256, XS1]
                clock-skew: 1h
                url: http://x/
                scope: 'mail "all"'
                openid-configuration: file:/x
                """));
        assertThat(found)
                .contains(
                        "auth.providers[0].url: is not a setting of jwt providers (its keys: name, type, jwks,"
                                + " issuer, audience, algorithms, user-claim, clock-skew, timeout, tls-verify,"
                                + " hmac-secret, scope, openid-configuration)",
                        "auth.providers[0].scope: 'mail \"all\"' is not a list of scope tokens (printable ASCII, no \""
                                + " or \\)",
                        "auth.providers[0].openid-configuration: 'file:/x' is not an https URL",
                        "auth.providers[0].issuer: is required",
                        "auth.providers[0].algorithms[0]: 'none' accepts unsigned tokens, which anyone can write;"
                                + " never allowed",
                        "auth.providers[0].algorithms[2]: 'XS1' is not one of RS256, RS384, RS512, PS256, PS384,"
                                + " PS512, ES256, ES384, ES512, HS256, HS384, HS512",
                        "auth.providers[0].clock-skew: 1h is more than 10m: an expired token would stay good that"
                                + " long");
        assertThat(found).anyMatch(p -> p.startsWith("auth.providers[0].jwks: "));
    }

    @Test
    void hmacNeedsASecretOfItsOwn() {
        assertThat(
                        problems(
                                auth(
                                        """
                        name: tokens
                        type: jwt
                        jwks: https://id.example.test/jwks
                        issuer: https://id.example.test
                        audience: mail
                        algorithms: [RS256, HS256]
                        """)))
                .containsExactly("auth.providers[0].algorithms: an HS algorithm needs hmac-secret (a shared secret"
                        + " configured here); an HMAC key is never taken from the JWKS, where keys are public");
    }
}
