package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bearer tokens end to end: Python's imaplib authenticates with XOAUTH2 and OAUTHBEARER through Postern's IMAPS
 * listener, whose {@code jwt} provider checks the token against a JWKS this test serves over HTTP; Postern then logs
 * in on the real Dovecot with the pool's master user.
 */
class JwtLoginIT {
    private static final String ISSUER = "https://id.example.test";

    private static final String LOGIN =
            """
            import imaplib, ssl, sys
            port, mechanism, user, token = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx)
            if mechanism == "XOAUTH2":
                message = "user=%s\\x01auth=Bearer %s\\x01\\x01" % (user, token)
            else:
                message = "n,a=%s,\\x01host=127.0.0.1\\x01port=%d\\x01auth=Bearer %s\\x01\\x01" % (user, port, token)
            try:
                m.authenticate(mechanism, lambda challenge: message.encode())
                typ, data = m.select("INBOX")
                print("select", typ)
                m.logout()
            except imaplib.IMAP4.error as e:
                print("refused", e)
            """;

    @TempDir
    static Path dir;

    static PosternHarness postern;
    static HttpServer jwks;
    static RSAKey key;
    static final AtomicInteger jwksRequests = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        DevBackends.ensureStarted();
        key = new RSAKeyGenerator(2048).keyID("it-1").generate();
        byte[] body = new JWKSet(key.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
        jwks = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        jwks.createContext("/jwks", exchange -> {
            jwksRequests.incrementAndGet();
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        jwks.start();
        postern = PosternHarness.start(
                """
                listeners:
                  - {name: imaps, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: master, auth: [tokens]}
                auth:
                  providers:
                    - name: tokens
                      type: jwt
                      jwks: http://127.0.0.1:%d/jwks
                      issuer: %s
                      audience: mail
                pools:
                  - name: master
                    backends:
                      - {address: "127.0.0.1:%d", master-user: %s, master-password: %s}
                """
                        .formatted(
                                FreePorts.next(),
                                jwks.getAddress().getPort(),
                                ISSUER,
                                DevBackends.IMAP,
                                DevBackends.MASTER_USER,
                                DevBackends.MASTER_PASSWORD),
                dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
        if (jwks != null) {
            jwks.stop(0);
        }
    }

    private static String token(String email, Instant expires) throws Exception {
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(),
                new JWTClaimsSet.Builder()
                        .issuer(ISSUER)
                        .audience("mail")
                        .claim("email", email)
                        .expirationTime(Date.from(expires))
                        .build());
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static Processes.Result login(String mechanism, String user, String token) {
        return Processes.python(
                Duration.ofSeconds(30), LOGIN, String.valueOf(postern.port("imaps")), mechanism, user, token);
    }

    @Test
    void aValidTokenLogsInToDovecotWithXoauth2AndOauthbearer() throws Exception {
        String token = token(DevBackends.ALICE, Instant.now().plusSeconds(300));
        for (String mechanism : new String[] {"XOAUTH2", "OAUTHBEARER"}) {
            Processes.Result r = login(mechanism, DevBackends.ALICE, token);
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.stdout()).as(mechanism + ": " + r).contains("select OK");
        }
        assertThat(jwksRequests).as("the key set is fetched once and kept").hasValue(1);
    }

    @Test
    void anExpiredTokenOrAnotherUsersTokenIsRefused() throws Exception {
        Processes.Result expired = login(
                "XOAUTH2",
                DevBackends.ALICE,
                token(DevBackends.ALICE, Instant.now().minusSeconds(600)));
        assertThat(expired.stdout()).as(expired.toString()).contains("refused").doesNotContain("select OK");

        Processes.Result someoneElse = login(
                "XOAUTH2",
                DevBackends.ALICE,
                token(DevBackends.BOB, Instant.now().plusSeconds(300)));
        assertThat(someoneElse.stdout()).as(someoneElse.toString()).contains("refused");

        Processes.Result forged = login("XOAUTH2", DevBackends.ALICE, "eyJhbGciOiJub25lIn0.eyJlbWFpbCI6ImEifQ.");
        assertThat(forged.stdout()).as(forged.toString()).contains("refused");
    }
}
