package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Protocol;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.testing.TestUsers;
import dev.postern.testkit.Await;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import dev.postern.testkit.TestCertificates.PemFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SASL EXTERNAL with a client certificate presented in the STARTTLS handshake of POP3 ({@code STLS}) and SMTP
 * submission ({@code STARTTLS}), with openssl s_client and Python's poplib and smtplib, through Postern to the real
 * Dovecot and Postfix (Postern logs in there as the master user). ClientCertificateIT has IMAP and implicit TLS.
 */
class ExternalAfterStartTlsIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    static PemFiles alice;
    static Path caFile;
    static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        TestCertificates ca = TestCertificates.newAuthority();
        PemFiles server =
                ca.issue(KeyType.EC_P256, "localhost", "localhost").write(dir, "server", KeyFormat.PKCS8, null);
        alice = ca.issue(KeyType.EC_P256, "Alice", DevBackends.ALICE).write(dir, "alice", KeyFormat.PKCS8, null);
        caFile = ca.writeCaCertificate(dir.resolve("clients-ca.pem"));
        TestUsers.write(dir);
        postern = PosternHarness.start(
                TestUsers.AUTH_SECTION
                        + """
                        listeners:
                          - {name: pop3, protocol: pop3, bind: "127.0.0.1:%d", tls: starttls, pool: pop3, auth: [local],
                             client-certificates: {mode: optional, ca: clients-ca.pem}}
                          - {name: submission, protocol: smtp, bind: "127.0.0.1:%d", tls: starttls, pool: smtp,
                             auth: [local], client-certificates: {mode: required, ca: clients-ca.pem}}
                        tls:
                          certificates: [{cert: "%s", key: "%s"}]
                        pools:
                          - {name: pop3, backends: [{address: "127.0.0.1:%d", master-user: %s, master-password: %s}]}
                          - {name: smtp, backends: [{address: "127.0.0.1:%d", master-user: %s, master-password: %s}]}
                        """
                                .formatted(
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        server.cert(),
                                        server.key(),
                                        DevBackends.POP3,
                                        DevBackends.MASTER_USER,
                                        DevBackends.MASTER_PASSWORD,
                                        DevBackends.SUBMISSION,
                                        DevBackends.MASTER_USER,
                                        DevBackends.MASTER_PASSWORD),
                dir);
        // POP3's CAPA and SMTP's EHLO say what the pools' backends announced, once the probe learned it
        for (Protocol protocol : new Protocol[] {Protocol.POP3, Protocol.SMTP}) {
            String pool = protocol == Protocol.POP3 ? "pop3" : "smtp";
            Await.until(
                    "the probe learned pool " + pool + "'s capabilities",
                    Duration.ofSeconds(20),
                    () -> postern.postern()
                            .services()
                            .capabilities()
                            .get(pool, protocol)
                            .isPresent());
        }
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private static Processes.Result sClient(String listener, String starttls, boolean certificate, String input) {
        List<String> command = new ArrayList<>(List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + postern.port(listener),
                "-starttls",
                starttls,
                "-CAfile",
                caFile.toString(),
                "-servername",
                "localhost",
                "-quiet",
                "-ign_eof"));
        if (certificate) {
            command.addAll(List.of(
                    "-cert", alice.cert().toString(), "-key", alice.key().toString()));
        }
        return Processes.runWithInput(TIMEOUT, input, command.toArray(String[]::new));
    }

    @Test
    void opensslLogsInWithAuthExternalAfterPop3Stls() {
        Processes.Result r = sClient("pop3", "pop3", true, "CAPA\r\nAUTH EXTERNAL =\r\nSTAT\r\nQUIT\r\n");

        assertThat(r.stdout()).as("%s", r).containsPattern("(?m)^SASL .*EXTERNAL");
        assertThat(r.stdout()).containsPattern("(?m)^\\+OK [0-9]+ [0-9]+");
    }

    @Test
    void poplibSeesExternalOnlyAfterStlsWithItsCertificateAndLogsIn() {
        Processes.Result r = Processes.python(
                TIMEOUT,
                """
                import poplib, ssl, sys
                p = poplib.POP3('localhost', int(sys.argv[1]), timeout=30)
                print('BEFORE', p.capa().get('SASL'))
                ctx = ssl.create_default_context(cafile=sys.argv[2])
                ctx.load_cert_chain(sys.argv[3], sys.argv[4])
                p.stls(context=ctx)
                print('AFTER', p.capa().get('SASL'))
                print('AUTH', p._shortcmd('AUTH EXTERNAL =').decode())
                print('STAT', p.stat())
                p.quit()
                """,
                "" + postern.port("pop3"),
                caFile.toString(),
                alice.cert().toString(),
                alice.key().toString());

        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).contains("BEFORE").doesNotContainPattern("BEFORE .*EXTERNAL");
        assertThat(r.stdout()).containsPattern("AFTER .*EXTERNAL");
        assertThat(r.stdout()).containsPattern("AUTH \\+OK");
        assertThat(r.stdout()).containsPattern("STAT \\([0-9]+, [0-9]+\\)");
    }

    @Test
    void opensslAuthenticatesWithAuthExternalAfterSmtpStartTls() {
        Processes.Result r =
                sClient("submission", "smtp", true, "EHLO client.example.test\r\nAUTH EXTERNAL =\r\nQUIT\r\n");

        assertThat(r.stdout()).as("%s", r).containsPattern("(?m)^250[ -]AUTH .*EXTERNAL");
        assertThat(r.stdout()).containsPattern("(?m)^235 ");
    }

    @Test
    void smtplibSendsAMessageToBobAfterStartTlsAndAuthExternal() {
        String subject = "postern-external-starttls-" + UUID.randomUUID();
        Processes.Result r = Processes.python(
                TIMEOUT,
                """
                import smtplib, ssl, sys
                s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)
                s.ehlo('client.example.test')
                ctx = ssl.create_default_context(cafile=sys.argv[2])
                ctx.load_cert_chain(sys.argv[3], sys.argv[4])
                ctx.check_hostname = False
                s.starttls(context=ctx)
                s.ehlo('client.example.test')
                print('AUTH', s.esmtp_features.get('auth'))
                code, text = s.docmd('AUTH', 'EXTERNAL =')
                print('CODE', code)
                s.sendmail(sys.argv[5], [sys.argv[6]],
                           'From: %s\\r\\nTo: %s\\r\\nSubject: %s\\r\\n\\r\\nwith a certificate\\r\\n'
                           % (sys.argv[5], sys.argv[6], sys.argv[7]))
                print('SENT')
                s.quit()
                """,
                "" + postern.port("submission"),
                caFile.toString(),
                alice.cert().toString(),
                alice.key().toString(),
                DevBackends.ALICE,
                DevBackends.BOB,
                subject);

        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout())
                .containsPattern("AUTH .*EXTERNAL")
                .contains("CODE 235")
                .contains("SENT");
        Await.until(
                "the message in bob's INBOX",
                Duration.ofSeconds(30),
                () -> DevBackends.hasMessage(DevBackends.BOB, subject));
    }

    @Test
    void theRequiredSubmissionListenerFailsTheStartTlsHandshakeWithoutACertificate() {
        Processes.Result r =
                sClient("submission", "smtp", false, "EHLO client.example.test\r\nAUTH EXTERNAL =\r\nQUIT\r\n");

        assertThat(r.stdout()).as("%s", r).doesNotContainPattern("(?m)^235 ");
        assertThat(r.all()).containsIgnoringCase("alert");
    }
}
