package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ALPN enforcement (RFC 9325, ALPACA) seen by the real {@code openssl s_client} against IMAP listeners in front of
 * Dovecot: a foreign protocol fails the handshake, {@code imap} and no ALPN at all reach Dovecot's greeting, and
 * {@code tls-alpn: off} lets anything in.
 */
class AlpnIT {
    @TempDir
    static Path dir;

    static PosternHarness postern;
    static Path caFile;

    @BeforeAll
    static void start() throws Exception {
        DevBackends.ensureStarted();
        TestCertificates ca = TestCertificates.newAuthority();
        caFile = ca.writeCaCertificate(dir.resolve("ca.pem"));
        ca.issue(TestCertificates.KeyType.EC_P256, "mail.example.test", "mail.example.test", "localhost")
                .write(dir, "mail", TestCertificates.KeyFormat.PKCS8, null);
        postern = PosternHarness.start(
                """
                listeners:
                  - {name: imaps, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: dovecot}
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", tls: starttls, pool: dovecot}
                  - {name: lenient, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: dovecot, tls-alpn: off}
                tls:
                  certificates:
                    - {name: mail, cert: mail-chain.pem, key: mail-key.pem, default: true}
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(FreePorts.next(), FreePorts.next(), FreePorts.next(), DevBackends.IMAP),
                dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private static Processes.Result sClient(String listener, String... extra) {
        List<String> cmd = new ArrayList<>(List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + postern.port(listener),
                "-servername",
                "localhost",
                "-verify_return_error",
                "-CAfile",
                caFile.toString(),
                "-crlf",
                "-ign_eof"));
        cmd.addAll(List.of(extra));
        return Processes.runWithInput(Duration.ofSeconds(20), "a LOGOUT\n", cmd.toArray(String[]::new));
    }

    @Test
    void aForeignProtocolFailsTheImapsHandshakeWithNoApplicationProtocol() {
        Processes.Result r = sClient("imaps", "-alpn", "h2");
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.all()).contains("no application protocol").doesNotContain("* OK");
    }

    @Test
    void imapOrNoAlpnReachesDovecot() {
        for (String[] args : new String[][] {{"-alpn", "imap"}, {"-alpn", "h2,imap"}, {}}) {
            Processes.Result r = sClient("imaps", args);
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.stdout()).as(r.toString()).contains("* OK").contains("a OK");
        }
    }

    @Test
    void startTlsIsCheckedTheSameWay() {
        Processes.Result refused = sClient("imap", "-starttls", "imap", "-alpn", "pop3");
        assertThat(refused.exitCode()).as(refused.toString()).isNotZero();
        assertThat(refused.all()).contains("no application protocol").doesNotContain("a OK");

        Processes.Result ok = sClient("imap", "-starttls", "imap", "-alpn", "imap");
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        assertThat(ok.stdout()).contains("a OK");
    }

    @Test
    void withTlsAlpnOffAForeignProtocolIsLetIn() {
        Processes.Result r = sClient("lenient", "-alpn", "h2");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("* OK").contains("a OK");
    }
}
