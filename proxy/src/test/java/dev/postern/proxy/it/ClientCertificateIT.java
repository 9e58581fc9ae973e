package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.NginxAuthService;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.testing.TestUsers;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import dev.postern.testkit.TestCertificates.Leaf;
import dev.postern.testkit.TestCertificates.PemFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS client certificates and SASL EXTERNAL end to end: openssl s_client, curl and Python log in to the real Dovecot
 * and Postfix through Postern with a certificate instead of a password (Postern logs in on the backend as the master
 * user); a required listener refuses the handshake without a certificate, with one of another CA and with a revoked
 * one; auth_http gets nginx's Auth-SSL-* headers.
 */
class ClientCertificateIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    static PemFiles alice;
    static PemFiles revoked;
    static PemFiles stranger;
    static Path caFile;
    static Leaf aliceLeaf;
    static NginxAuthService service;
    static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        TestCertificates ca = TestCertificates.newAuthority();
        TestCertificates otherCa = TestCertificates.newAuthority();
        PemFiles server =
                ca.issue(KeyType.EC_P256, "localhost", "localhost").write(dir, "server", KeyFormat.PKCS8, null);
        aliceLeaf = ca.issue(KeyType.EC_P256, "Alice", DevBackends.ALICE);
        alice = aliceLeaf.write(dir, "alice", KeyFormat.PKCS8, null);
        Leaf revokedLeaf = ca.issue(KeyType.EC_P256, "Bob", DevBackends.BOB);
        revoked = revokedLeaf.write(dir, "revoked", KeyFormat.PKCS8, null);
        stranger = otherCa.issue(KeyType.EC_P256, "Alice", DevBackends.ALICE)
                .write(dir, "stranger", KeyFormat.PKCS8, null);
        caFile = ca.writeCaCertificate(dir.resolve("clients-ca.pem"));
        ca.writeCrl(dir.resolve("clients.crl"), revokedLeaf.certificate());
        TestUsers.write(dir);
        service = NginxAuthService.start();
        service.behaviour = h -> "external".equals(h.get("auth-method")) && "SUCCESS".equals(h.get("auth-ssl-verify"))
                ? NginxAuthService.Answer.of(
                        "Auth-Status", "OK", "Auth-Server", "127.0.0.1", "Auth-Port", "" + DevBackends.IMAP)
                : NginxAuthService.Answer.of("Auth-Status", "Invalid login or password");
        String certs = "client-certificates: {mode: required, ca: clients-ca.pem, crl: clients.crl}";
        String optional = "client-certificates: {mode: optional, ca: clients-ca.pem}";
        postern = PosternHarness.start(
                """
                listeners:
                  - {name: imaps, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: imap, auth: [local], %s}
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", tls: starttls, pool: imap, auth: [local], %s}
                  - {name: imaps-http, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: imap, auth: [http], %s}
                  - {name: no-master, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: plain, auth: [local], %s}
                  - {name: pop3s, protocol: pop3, bind: "127.0.0.1:%d", tls: implicit, pool: pop3, auth: [local], %s}
                  - {name: submissions, protocol: smtp, bind: "127.0.0.1:%d", tls: implicit, pool: smtp, auth: [local], %s}
                tls:
                  certificates: [{cert: "%s", key: "%s"}]
                pools:
                  - {name: imap, backends: [{address: "127.0.0.1:%d", master-user: %s, master-password: %s}]}
                  - {name: plain, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: pop3, backends: [{address: "127.0.0.1:%d", master-user: %s, master-password: %s}]}
                  - {name: smtp, backends: [{address: "127.0.0.1:%d", master-user: %s, master-password: %s}]}
                auth:
                  providers:
                    - {name: local, type: static, file: users.txt}
                    - {name: http, type: http, url: "%s", timeout: 2s}
                """
                        .formatted(
                                FreePorts.next(),
                                certs,
                                FreePorts.next(),
                                optional,
                                FreePorts.next(),
                                certs,
                                FreePorts.next(),
                                certs,
                                FreePorts.next(),
                                certs,
                                FreePorts.next(),
                                certs,
                                server.cert(),
                                server.key(),
                                DevBackends.IMAP,
                                DevBackends.MASTER_USER,
                                DevBackends.MASTER_PASSWORD,
                                DevBackends.IMAP,
                                DevBackends.POP3,
                                DevBackends.MASTER_USER,
                                DevBackends.MASTER_PASSWORD,
                                DevBackends.SUBMISSION,
                                DevBackends.MASTER_USER,
                                DevBackends.MASTER_PASSWORD,
                                service.url()),
                dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
        if (service != null) {
            service.close();
        }
    }

    /** openssl s_client on {@code listener} with {@code certificate} (none when null), {@code input} sent at once. */
    private static Processes.Result sClient(String listener, PemFiles certificate, String input, String... extra) {
        List<String> command = new ArrayList<>(List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + postern.port(listener),
                "-CAfile",
                caFile.toString(),
                "-servername",
                "localhost",
                "-quiet",
                "-ign_eof"));
        if (certificate != null) {
            command.addAll(List.of(
                    "-cert",
                    certificate.cert().toString(),
                    "-key",
                    certificate.key().toString()));
        }
        command.addAll(List.of(extra));
        return Processes.runWithInput(TIMEOUT, input, command.toArray(String[]::new));
    }

    @Test
    void opensslLogsInToDovecotWithAuthenticateExternalAndSelectsTheInbox() {
        Processes.Result r = sClient(
                "imaps", alice, "a1 CAPABILITY\r\na2 AUTHENTICATE EXTERNAL =\r\na3 SELECT INBOX\r\na4 LOGOUT\r\n");

        assertThat(r.stdout()).as("%s", r).contains("AUTH=EXTERNAL");
        assertThat(r.stdout()).containsPattern("(?m)^a2 OK");
        assertThat(r.stdout()).containsPattern("(?m)^a3 OK \\[READ-WRITE\\]");
    }

    @Test
    void curlListsTheMailboxesWithAuthExternal() {
        Processes.Result r = Processes.run(
                TIMEOUT,
                "curl",
                "-sS",
                "--cacert",
                caFile.toString(),
                "--cert",
                alice.cert().toString(),
                "--key",
                alice.key().toString(),
                "--login-options",
                "AUTH=EXTERNAL",
                "-u",
                DevBackends.ALICE + ":",
                "imaps://localhost:" + postern.port("imaps") + "/");

        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).contains("INBOX");
    }

    @Test
    void anAuthzidOtherThanTheCertificatesUserIsRefused() {
        String bob = Base64.getEncoder().encodeToString(DevBackends.BOB.getBytes());
        Processes.Result r = sClient("imaps", alice, "a1 AUTHENTICATE EXTERNAL " + bob + "\r\na2 LOGOUT\r\n");

        assertThat(r.stdout()).as("%s", r).containsPattern("(?m)^a1 NO");
    }

    @Test
    void aRequiredListenerRefusesTheHandshakeWithoutACertificateWithAStrangerAndWithARevokedOne() {
        for (PemFiles certificate : new PemFiles[] {null, stranger, revoked}) {
            Processes.Result r = sClient("imaps", certificate, "a1 CAPABILITY\r\na2 LOGOUT\r\n");
            assertThat(r.stdout())
                    .as("%s: %s", certificate == null ? "no certificate" : certificate.name(), r)
                    .doesNotContain("* OK");
            assertThat(r.all()).containsIgnoringCase("alert");
        }
    }

    @Test
    void anOptionalListenerOffersExternalOnlyWithAVerifiedCertificate() {
        String commands = "a1 CAPABILITY\r\na2 LOGOUT\r\n";
        Processes.Result without = sClient("imap", null, commands, "-starttls", "imap");
        Processes.Result with = sClient(
                "imap", alice, "a1 CAPABILITY\r\na2 AUTHENTICATE EXTERNAL =\r\na3 LOGOUT\r\n", "-starttls", "imap");

        assertThat(without.stdout()).as("%s", without).containsPattern("(?m)^a1 OK");
        assertThat(without.stdout()).contains("AUTH=PLAIN").doesNotContain("AUTH=EXTERNAL");
        assertThat(with.stdout()).as("%s", with).contains("AUTH=EXTERNAL");
        assertThat(with.stdout()).containsPattern("(?m)^a2 OK");
    }

    @Test
    void anOptionalListenerStillRefusesTheHandshakeForACertificateOfAnotherCa() {
        Processes.Result r = sClient("imap", stranger, "a1 CAPABILITY\r\na2 LOGOUT\r\n", "-starttls", "imap");

        assertThat(r.stdout()).as("%s", r).doesNotContainPattern("(?m)^a1 OK");
        assertThat(r.all()).containsIgnoringCase("alert");
    }

    @Test
    void aPoolWithoutAMasterUserGivesATemporaryErrorRatherThanAPasswordlessLogin() {
        Processes.Result r = sClient("no-master", alice, "a1 AUTHENTICATE EXTERNAL =\r\na2 LOGOUT\r\n");

        assertThat(r.stdout()).as("%s", r).containsPattern("(?m)^a1 NO \\[UNAVAILABLE\\]");
    }

    @Test
    void pop3AuthExternalLogsIntoDovecot() {
        Processes.Result r = sClient("pop3s", alice, "CAPA\r\nAUTH EXTERNAL =\r\nSTAT\r\nQUIT\r\n");

        assertThat(r.stdout()).as("%s", r).containsPattern("(?m)^SASL .*EXTERNAL");
        assertThat(r.stdout()).containsPattern("(?m)^\\+OK [0-9]+ [0-9]+");
    }

    @Test
    void pythonSmtplibAuthenticatesToPostfixWithAuthExternal() {
        Processes.Result r = Processes.python(
                TIMEOUT,
                """
                import smtplib, ssl, sys
                ctx = ssl.create_default_context(cafile=sys.argv[3])
                ctx.load_cert_chain(sys.argv[4], sys.argv[5])
                s = smtplib.SMTP_SSL('localhost', int(sys.argv[1]), context=ctx)
                s.ehlo('client.example.test')
                print('AUTH', s.esmtp_features.get('auth'))
                code, text = s.docmd('AUTH', 'EXTERNAL =')
                print('CODE', code)
                s.quit()
                """,
                "" + postern.port("submissions"),
                "unused",
                caFile.toString(),
                alice.cert().toString(),
                alice.key().toString());

        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).containsPattern("AUTH .*EXTERNAL");
        assertThat(r.stdout()).contains("CODE 235");
    }

    @Test
    void authHttpGetsNginxsCertificateHeadersAndDecidesTheLogin() {
        service.requests.clear();
        Processes.Result r =
                sClient("imaps-http", alice, "a1 AUTHENTICATE EXTERNAL =\r\na2 SELECT INBOX\r\na3 LOGOUT\r\n");

        assertThat(r.stdout()).as("%s", r).containsPattern("(?m)^a2 OK \\[READ-WRITE\\]");
        Map<String, String> h = service.requests.get(0);
        assertThat(h)
                .containsEntry("auth-method", "external")
                .containsEntry("auth-user", DevBackends.ALICE)
                .containsEntry("auth-pass", "")
                .containsEntry("auth-ssl", "on")
                .containsEntry("auth-ssl-verify", "SUCCESS")
                .containsEntry(
                        "auth-ssl-serial",
                        aliceLeaf.certificate().getSerialNumber().toString(16).toUpperCase());
        assertThat(NginxAuthService.decode(h.get("auth-ssl-subject"))).isEqualTo("CN=Alice,O=Postern tests");
        assertThat(h.get("auth-ssl-fingerprint")).matches("[0-9a-f]{40}");
        assertThat(NginxAuthService.decode(h.get("auth-ssl-cert"))).startsWith("-----BEGIN CERTIFICATE-----");
    }
}
