package dev.postern.config;

import static dev.postern.config.ConfigTexts.POOLS;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IntrospectionConfigTest {
    private static final String LISTENER =
            """
            listeners:
              - {name: imaps, protocol: imap, bind: 127.0.0.1:1993, tls: implicit, pool: dovecot, auth: [opaque]}
            """;

    @TempDir
    Path dir;

    private static String auth(String provider) {
        return "auth:\n  providers:\n    - " + provider.strip().replace("\n", "\n      ") + "\n" + LISTENER + POOLS;
    }

    @Test
    void readsAProviderWithItsDefaults() throws Exception {
        IntrospectionConfig p = (IntrospectionConfig) parse(
                        auth(
                                """
                        name: opaque
                        type: oauth2-introspection
                        url: https://id.example.test/oauth2/introspect
                        client-id: postern
                        client-secret: "${env:SECRET}"
                        """),
                        dir,
                        Map.of("SECRET", "s3cret"))
                .auth()
                .providers()
                .get(0);
        assertThat(p.url()).isEqualTo(URI.create("https://id.example.test/oauth2/introspect"));
        assertThat(p.clientSecret().reveal()).isEqualTo("s3cret");
        assertThat(p.issuer()).isEmpty();
        assertThat(p.audience()).isEmpty();
        assertThat(p.userClaim()).isEmpty();
        assertThat(p.cacheTtl()).isEqualTo(Duration.ofMinutes(5));
        assertThat(p.negativeTtl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(p.timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(p.tlsVerify()).isTrue();
        assertThat(p.bearerError()).isEqualTo(BearerErrorConfig.NONE);
    }

    @Test
    void everyBadValueIsReportedWithItsPath() {
        List<String> found = problems(
                auth(
                        """
                name: opaque
                type: oauth2-introspection
                url: https://user:pw@id.example.test/introspect
                issuer: ""
                cache-ttl: 2d
                jwks: https://id.example.test/jwks
                """));
        assertThat(found)
                .contains(
                        "auth.providers[0].url: has user info (user:password@); use client-id and client-secret",
                        "auth.providers[0].client-id: is required",
                        "auth.providers[0].client-secret: is required",
                        "auth.providers[0].issuer: is empty (the issuer (iss) answers must carry)",
                        "auth.providers[0].cache-ttl: 2d is more than 1d: a revoked token would stay good that long");
        assertThat(found)
                .anyMatch(p -> p.startsWith("auth.providers[0].jwks: is not a setting of oauth2-introspection"));
    }
}
