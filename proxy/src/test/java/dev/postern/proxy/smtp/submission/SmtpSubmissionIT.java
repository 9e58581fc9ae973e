package dev.postern.proxy.smtp.submission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Protocol;
import dev.postern.proxy.smtp.EhloKeywords;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.testing.TestUsers;
import dev.postern.testkit.Await;
import dev.postern.testkit.SmtpTestClient;
import dev.postern.testkit.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SMTP submission through Postern to the real Dovecot submission service (which relays to Postfix, which delivers
 * into Dovecot), driven by real clients in every listener mode: Python's smtplib, curl, swaks, openssl s_client.
 */
class SmtpSubmissionIT {
    private static final Duration DELIVERY = Duration.ofSeconds(60);
    private static final Duration RUN = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    private static PosternHarness postern;
    private static Path caFile;
    private static SSLContext clientTls;

    @BeforeAll
    static void start() throws Exception {
        DevBackends.ensureStarted();
        TestCertificates ca = TestCertificates.newAuthority();
        var leaf = ca.issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost");
        var cert = leaf.write(dir, "smtp", TestCertificates.KeyFormat.PKCS8, null);
        caFile = ca.writeCaCertificate(dir.resolve("ca.pem"));
        clientTls = ca.clientSslContext();
        TestUsers.write(dir);
        String yaml =
                """
                listeners:
                  - {name: smtps, protocol: smtp, bind: "127.0.0.1:%d", tls: implicit, pool: dovecot}
                  - {name: submission, protocol: smtp, bind: "127.0.0.1:%d", tls: starttls, pool: dovecot}
                  - {name: plain, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: dovecot}
                  - {name: xclient, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: xclient}
                  - {name: proxied, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: proxied}
                  - {name: backend-tls, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true,
                     pool: backend-tls}
                  - {name: master, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: master,
                     auth: [local]}
                  - {name: bad-master, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true,
                     pool: bad-master, auth: [local]}
                tls:
                  certificates: [{cert: "%s", key: "%s"}]
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: xclient, backends: [{address: "127.0.0.1:%d", identity: xclient}]}
                  - {name: proxied, backends: [{address: "127.0.0.1:%d", identity: proxy-v2}]}
                  - {name: backend-tls, backends: [{address: "127.0.0.1:%d", tls: starttls, tls-verify: false,
                     identity: xclient}]}
                  - {name: master, backends: [{address: "127.0.0.1:%d", master-user: proxy-master,
                     master-password: master-pw}]}
                  - {name: bad-master, backends: [{address: "127.0.0.1:%d", master-user: proxy-master,
                     master-password: not-the-master-pw}]}
                auth:
                  providers:
                    - {name: local, type: static, file: users.txt}
                """
                        .formatted(
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                cert.cert(),
                                cert.key(),
                                DevBackends.SUBMISSION,
                                DevBackends.SUBMISSION,
                                DevBackends.SUBMISSION_PROXY,
                                DevBackends.SUBMISSION,
                                DevBackends.SUBMISSION,
                                DevBackends.SUBMISSION);
        postern = PosternHarness.start(yaml, dir);
        // before any login: the probe learned the keywords, also through a PROXY listener (with a LOCAL header)
        for (String pool : List.of("dovecot", "proxied")) {
            Await.until(
                    "the SMTP probe learned pool " + pool + "'s EHLO keywords",
                    Duration.ofSeconds(20),
                    () -> postern.postern()
                            .services()
                            .capabilities()
                            .get(pool, Protocol.SMTP)
                            .isPresent());
        }
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private static String subject(String what) {
        return "postern-smtp-" + what + "-" + UUID.randomUUID();
    }

    private static void assertDelivered(String subject) {
        Await.until(
                "message '" + subject + "' in bob's INBOX",
                DELIVERY,
                () -> DevBackends.hasMessage(DevBackends.BOB, subject));
    }

    /** A loopback address of its own, so Dovecot's log lines of this test can be told from everyone else's. */
    private static String uniqueLoopback() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return "127." + r.nextInt(100, 250) + "." + r.nextInt(1, 250) + "." + r.nextInt(2, 250);
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static final String SMTPLIB =
            """
            import smtplib, ssl, sys
            mode, port, cafile, user, password, wrong, mech, subject, source = sys.argv[1:10]
            ctx = ssl.create_default_context(cafile=cafile)
            src = (source, 0) if source != "-" else None
            if mode == "ssl":
                s = smtplib.SMTP_SSL("localhost", int(port), context=ctx, source_address=src, timeout=30)
            else:
                s = smtplib.SMTP("localhost", int(port), source_address=src, timeout=30)
            code, _ = s.ehlo("client.example")
            if mode == "starttls":
                print("BEFORE-TLS", sorted(s.esmtp_features))
                s.starttls(context=ctx)
                s.ehlo("client.example")
            print("FEATURES", sorted(s.esmtp_features))
            def auth(pw):
                s.user, s.password = user, pw
                if mech == "PLAIN-IR":
                    return s.auth("PLAIN", s.auth_plain, initial_response_ok=True)
                if mech == "PLAIN":
                    return s.auth("PLAIN", s.auth_plain, initial_response_ok=False)
                return s.auth("LOGIN", s.auth_login, initial_response_ok=False)
            if wrong != "-":
                try:
                    auth(wrong)
                    print("WRONG-ACCEPTED")
                except smtplib.SMTPAuthenticationError as e:
                    print("WRONG", e.smtp_code, e.smtp_error.decode())
            code, msg = auth(password)
            print("AUTH", code, msg.decode())
            body = "From: " + user + "\\r\\nTo: bob@example.test\\r\\nSubject: " + subject + "\\r\\n\\r\\nhello\\r\\n"
            refused = s.sendmail(user, ["bob@example.test"], body)
            print("SENT", refused)
            print("QUIT", s.quit()[0])
            """;

    private static Processes.Result smtplib(
            String mode, String listener, String wrongPassword, String mechanism, String subject, String source) {
        return Processes.python(
                RUN,
                SMTPLIB,
                mode,
                Integer.toString(postern.port(listener)),
                caFile.toString(),
                DevBackends.ALICE,
                DevBackends.ALICE_PASSWORD,
                wrongPassword == null ? "-" : wrongPassword,
                mechanism,
                subject,
                source == null ? "-" : source);
    }

    private static void assertSent(Processes.Result r) {
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).contains("AUTH 235 2.7.0 Authentication successful", "SENT {}", "QUIT 221");
    }

    // ---- real clients, every listener mode

    @Test
    void smtplibOverImplicitTlsWrongPasswordThenRightOneDelivers() {
        String subject = subject("smtps");
        Processes.Result r = smtplib("ssl", "smtps", "not-her-password", "PLAIN-IR", subject, null);
        assertThat(r.stdout()).contains("WRONG 535 5.7.8 Authentication credentials invalid");
        assertSent(r);
        assertDelivered(subject);
    }

    @Test
    void smtplibWithStartTlsAndAuthPlainContinuation() {
        String subject = subject("starttls");
        Processes.Result r = smtplib("starttls", "submission", null, "PLAIN", subject, null);
        assertSent(r);
        assertThat(r.stdout()).contains("BEFORE-TLS ['8bitmime'").contains("'starttls'");
        String before = r.stdout()
                .lines()
                .filter(l -> l.startsWith("BEFORE-TLS"))
                .findFirst()
                .orElseThrow();
        String after = r.stdout()
                .lines()
                .filter(l -> l.startsWith("FEATURES"))
                .findFirst()
                .orElseThrow();
        assertThat(before).doesNotContain("'auth'");
        assertThat(after).contains("'auth'").doesNotContain("'starttls'");
        assertDelivered(subject);
    }

    @Test
    void smtplibOnAPlainListenerWithAuthLogin() {
        String subject = subject("plain-login");
        Processes.Result r = smtplib("plain", "plain", "wrong", "LOGIN", subject, null);
        assertThat(r.stdout()).contains("WRONG 535");
        assertSent(r);
        assertDelivered(subject);
    }

    private Path message(String subject) throws Exception {
        Path file = dir.resolve(subject + ".eml");
        Files.writeString(
                file,
                "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: " + subject
                        + "\r\n\r\nhello from curl\r\n");
        return file;
    }

    @Test
    void curlOverImplicitTls() throws Exception {
        String subject = subject("curl-smtps");
        Processes.Result r = Processes.run(
                RUN,
                "curl",
                "-sS",
                "--cacert",
                caFile.toString(),
                "smtps://localhost:" + postern.port("smtps"),
                "--user",
                DevBackends.ALICE + ":" + DevBackends.ALICE_PASSWORD,
                "--mail-from",
                DevBackends.ALICE,
                "--mail-rcpt",
                DevBackends.BOB,
                "-T",
                message(subject).toString());
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertDelivered(subject);
    }

    @Test
    void curlWithStartTlsRequired() throws Exception {
        String subject = subject("curl-starttls");
        Processes.Result r = Processes.run(
                RUN,
                "curl",
                "-sS",
                "--ssl-reqd",
                "--cacert",
                caFile.toString(),
                "--login-options",
                "AUTH=LOGIN",
                "smtp://localhost:" + postern.port("submission"),
                "--user",
                DevBackends.ALICE + ":" + DevBackends.ALICE_PASSWORD,
                "--mail-from",
                DevBackends.ALICE,
                "--mail-rcpt",
                DevBackends.BOB,
                "-T",
                message(subject).toString());
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertDelivered(subject);
    }

    @Test
    void curlWithAWrongPasswordIsRefused() throws Exception {
        Processes.Result r = Processes.run(
                RUN,
                "curl",
                "-sS",
                "--cacert",
                caFile.toString(),
                "smtps://localhost:" + postern.port("smtps"),
                "--user",
                DevBackends.ALICE + ":wrong",
                "--mail-from",
                DevBackends.ALICE,
                "--mail-rcpt",
                DevBackends.BOB,
                "-T",
                message(subject("curl-wrong")).toString());
        assertThat(r.exitCode()).as("%s", r).isEqualTo(67); // CURLE_LOGIN_DENIED
    }

    private static Processes.Result swaks(String tlsOption, String listener, String subject) {
        List<String> cmd = new ArrayList<>(List.of(
                "swaks",
                "--server",
                "127.0.0.1",
                "--port",
                Integer.toString(postern.port(listener)),
                "--ehlo",
                "client.example",
                "--auth",
                "PLAIN",
                "--auth-user",
                DevBackends.ALICE,
                "--auth-password",
                DevBackends.ALICE_PASSWORD,
                "--from",
                DevBackends.ALICE,
                "--to",
                DevBackends.BOB,
                "--header",
                "Subject: " + subject,
                "--body",
                "hello from swaks",
                "--timeout",
                "30"));
        if (tlsOption != null) {
            cmd.add(tlsOption);
        }
        return Processes.run(RUN, cmd.toArray(String[]::new));
    }

    @Test
    void swaksOverImplicitTls() {
        String subject = subject("swaks-tlsc");
        Processes.Result r = swaks("--tlsc", "smtps", subject);
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).contains("<~  235 2.7.0 Authentication successful");
        assertDelivered(subject);
    }

    @Test
    void swaksWithStartTls() {
        String subject = subject("swaks-tls");
        Processes.Result r = swaks("-tls", "submission", subject);
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).contains("<-  220 2.0.0 Ready to start TLS", "<~  235 2.7.0 Authentication successful");
        assertDelivered(subject);
    }

    @Test
    void swaksOnAPlainListener() {
        String subject = subject("swaks-plain");
        Processes.Result r = swaks(null, "plain", subject);
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).contains("<-  235 2.7.0 Authentication successful");
        assertDelivered(subject);
    }

    @Test
    void opensslStartTlsWithEverythingPipelinedAfterTheHandshake() {
        String subject = subject("openssl");
        // s_client -crlf turns each LF into CRLF; it sends stdin as it reads it, so all of it goes out at once after
        // the handshake: Postern answers EHLO and AUTH, the backend the rest, in order
        String script = "EHLO client.example\n"
                + "AUTH PLAIN " + b64("\0" + DevBackends.ALICE + "\0" + DevBackends.ALICE_PASSWORD) + "\n"
                + "MAIL FROM:<" + DevBackends.ALICE + ">\n"
                + "RCPT TO:<" + DevBackends.BOB + ">\n"
                + "DATA\n";
        String body = "Subject: " + subject + "\n\nhello from openssl\n.\nQUIT\n";
        Processes.Result r = Processes.runWithInput(
                RUN,
                script + body,
                "openssl",
                "s_client",
                "-quiet",
                "-ign_eof",
                "-crlf",
                "-starttls",
                "smtp",
                "-CAfile",
                caFile.toString(),
                "-verify_return_error",
                "-servername",
                "localhost",
                "-connect",
                "127.0.0.1:" + postern.port("submission"));
        assertThat(r.stdout()).as("%s", r).contains("235 2.7.0 Authentication successful", "354 ", "221 2.0.0");
        assertDelivered(subject);
    }

    // ---- protocol details against the real backend

    @Test
    void ehloOffersExactlyWhatDovecotOffersMinusHopByHopKeywordsPlusPosternsAuth() {
        List<String> direct;
        try (SmtpTestClient c = SmtpTestClient.connect(DevBackends.SUBMISSION)) {
            c.reply();
            direct = c.command("EHLO client.example");
            c.command("QUIT");
        }
        List<String> expected = new ArrayList<>();
        for (String line : direct.subList(1, direct.size())) {
            String keyword = EhloKeywords.keyword(line.substring(4));
            if (!List.of("AUTH", "STARTTLS", "XCLIENT", "XFORWARD").contains(keyword)) {
                expected.add(line.substring(4));
            }
        }
        assertThat(expected).contains("PIPELINING", "CHUNKING", "8BITMIME");
        expected.add("AUTH PLAIN LOGIN");
        try (SmtpTestClient c = SmtpTestClient.connect(postern.port("plain"))) {
            assertThat(c.replyLine()).endsWith(" ESMTP Postern");
            List<String> offered = c.command("EHLO client.example");
            assertThat(offered.subList(1, offered.size()).stream().map(l -> l.substring(4)))
                    .containsExactlyElementsOf(expected);
        }
    }

    @Test
    void mailBeforeAuthIs530AndAuthBeforeTlsIs538() {
        try (SmtpTestClient c = SmtpTestClient.connect(postern.port("submission"))) {
            c.reply();
            List<String> ehlo = c.command("EHLO client.example");
            assertThat(ehlo).anyMatch(l -> l.endsWith("STARTTLS")).noneMatch(l -> l.contains("AUTH"));
            assertThat(c.command("MAIL FROM:<alice@example.test>"))
                    .containsExactly("530 5.7.0 Authentication required");
            assertThat(c.command("AUTH PLAIN " + b64("\0alice@example.test\0alice-pw")))
                    .containsExactly("538 5.7.11 Encryption required for requested authentication mechanism");
            assertThat(c.command("QUIT")).containsExactly("221 2.0.0 Bye");
        }
    }

    @Test
    void commandsPipelinedRightAfterAuthReachTheBackendAfterTheLogin() {
        String subject = subject("pipelined");
        try (SmtpTestClient c = SmtpTestClient.connectTls(postern.port("smtps"), clientTls)) {
            c.reply();
            c.command("EHLO client.example");
            c.write("AUTH PLAIN " + b64("\0" + DevBackends.ALICE + "\0" + DevBackends.ALICE_PASSWORD) + "\r\n"
                    + "MAIL FROM:<" + DevBackends.ALICE + ">\r\n"
                    + "RCPT TO:<" + DevBackends.BOB + ">\r\n"
                    + "DATA\r\n");
            assertThat(c.reply()).containsExactly("235 2.7.0 Authentication successful");
            assertThat(c.replyLine()).startsWith("250 2.1.0");
            assertThat(c.replyLine()).startsWith("250 2.1.5");
            assertThat(c.replyLine()).startsWith("354 ");
            c.write("Subject: " + subject + "\r\n\r\npipelined\r\n.\r\n");
            assertThat(c.replyLine()).startsWith("250 2.0.0");
            assertThat(c.command("QUIT").get(0)).startsWith("221");
        }
        assertDelivered(subject);
    }

    @Test
    void aSecondLoginAttemptAfterAFailureWorksOnTheSameConnection() {
        try (SmtpTestClient c = SmtpTestClient.connect(postern.port("plain"))) {
            c.reply();
            c.command("EHLO client.example");
            assertThat(c.command("AUTH LOGIN")).containsExactly("334 VXNlcm5hbWU6");
            assertThat(c.command(b64(DevBackends.BOB))).containsExactly("334 UGFzc3dvcmQ6");
            assertThat(c.command(b64("nope"))).containsExactly("535 5.7.8 Authentication credentials invalid");
            assertThat(c.command("AUTH PLAIN")).containsExactly("334 ");
            assertThat(c.command(b64("\0" + DevBackends.BOB + "\0" + DevBackends.BOB_PASSWORD)))
                    .containsExactly("235 2.7.0 Authentication successful");
            // now the backend speaks: its own reply to RSET
            assertThat(c.command("RSET").get(0)).startsWith("250 2.0.0");
            assertThat(c.command("QUIT").get(0)).startsWith("221 2.0.0");
        }
        postern.awaitNoSessions();
    }

    private static void assertLoginLogged(String user, String rip, String extra) {
        Await.until(
                "Dovecot logged " + user + "'s submission login from " + rip,
                Duration.ofSeconds(10),
                () -> DevBackends.dovecotLog()
                        .lines()
                        .anyMatch(l -> l.contains("submission-login: Info: Login: user=<" + user + ">")
                                && l.contains("rip=" + rip + ",")
                                && l.contains(extra)));
    }

    @Test
    void xclientPassesTheClientsAddressToDovecot() throws Exception {
        String source = uniqueLoopback();
        String subject = subject("xclient");
        Processes.Result r = smtplib("plain", "xclient", null, "PLAIN-IR", subject, source);
        assertSent(r);
        assertLoginLogged(DevBackends.ALICE, source, "");
        assertDelivered(subject);
    }

    @Test
    void proxyProtocolPassesTheClientsAddressToDovecot() {
        String source = uniqueLoopback();
        String subject = subject("proxy-v2");
        Processes.Result r = smtplib("plain", "proxied", null, "PLAIN-IR", subject, source);
        assertSent(r);
        assertLoginLogged(DevBackends.ALICE, source, "");
        assertDelivered(subject);
    }

    @Test
    void startTlsTowardsTheBackend() {
        String source = uniqueLoopback();
        String subject = subject("backend-tls");
        Processes.Result r = smtplib("plain", "backend-tls", "wrong", "LOGIN", subject, source);
        assertThat(r.stdout()).contains("WRONG 535");
        assertSent(r);
        assertLoginLogged(DevBackends.ALICE, source, ", TLS,");
        assertDelivered(subject);
    }

    @Test
    void aMasterUserLogsInOnTheUsersBehalf() {
        String subject = subject("master");
        assertSent(smtplib("plain", "master", null, "PLAIN-IR", subject, null));
        assertDelivered(subject);
        // the same client credentials fail when the master password is wrong: the master login is what is used
        Processes.Result r = smtplib("plain", "bad-master", null, "PLAIN-IR", subject("bad-master"), null);
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.all()).contains("535");
    }
}
