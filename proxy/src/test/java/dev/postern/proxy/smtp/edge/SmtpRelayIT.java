package dev.postern.proxy.smtp.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Protocol;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.Await;
import dev.postern.testkit.SmtpTestClient;
import dev.postern.testkit.TestCertificates;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SMTP relay (port 25 role) in front of the real Postfix, which delivers example.test into Dovecot: delivery with
 * real clients in every listener mode, the client's identity reaching Postfix (XCLIENT, PROXY v2), relay access
 * (the classic tricks included), and several transactions per connection.
 */
class SmtpRelayIT {
    static final Duration DELIVERY = Duration.ofSeconds(60);
    static final Duration RUN = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    static PosternHarness postern;
    static SSLContext clientTls;
    static Path caFile;

    @BeforeAll
    static void start() throws Exception {
        DevBackends.ensureStarted();
        TestCertificates ca = TestCertificates.newAuthority();
        var cert = ca.issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost")
                .write(dir, "mx", TestCertificates.KeyFormat.PKCS8, null);
        caFile = ca.writeCaCertificate(dir.resolve("ca.pem"));
        clientTls = ca.clientSslContext();
        String yaml =
                """
                listeners:
                  - {name: mx, protocol: smtp, bind: "127.0.0.1:%d", tls: starttls, pool: postfix,
                     smtp: {role: relay, hostname: mx.postern.test, local-domains: [example.test]}}
                  - {name: mx-proxy, protocol: smtp, bind: "127.0.0.1:%d", pool: postfix-proxy,
                     smtp: {role: relay, hostname: mx.postern.test, local-domains: [example.test]}}
                  - {name: mx-tls, protocol: smtp, bind: "127.0.0.1:%d", tls: implicit, pool: postfix-tls,
                     smtp: {role: relay, hostname: mx.postern.test, local-domains: [example.test]}}
                  - {name: mx-trusted, protocol: smtp, bind: "127.0.0.1:%d", pool: postfix,
                     smtp: {role: relay, hostname: mx.postern.test, trusted-networks: [127.0.0.0/8]}}
                tls:
                  certificates: [{cert: "%s", key: "%s"}]
                pools:
                  - {name: postfix, backends: [{address: "127.0.0.1:%d", identity: xclient}]}
                  - {name: postfix-proxy, backends: [{address: "127.0.0.1:%d", identity: proxy-v2}]}
                  - {name: postfix-tls, backends: [{address: "127.0.0.1:%d", identity: xclient, tls: starttls,
                     tls-verify: false}]}
                routes:
                  domains: {"*.example.test": postfix}
                """
                        .formatted(
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                cert.cert(),
                                cert.key(),
                                DevBackends.SMTP,
                                DevBackends.SMTP_PROXY,
                                DevBackends.SMTP);
        postern = PosternHarness.start(yaml, dir);
        Await.until("the probe learned Postfix's EHLO keywords", Duration.ofSeconds(20), () -> postern.postern()
                .services()
                .capabilities()
                .get("postfix", Protocol.SMTP)
                .isPresent());
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    @AfterEach
    void everySessionEnds() {
        postern.awaitNoSessions();
    }

    static String subject(String what) {
        return "postern-relay-" + what + "-" + UUID.randomUUID();
    }

    static void assertDelivered(String subject) {
        Await.until(
                "message '" + subject + "' in bob's INBOX",
                DELIVERY,
                () -> DevBackends.hasMessage(DevBackends.BOB, subject));
    }

    /** A loopback address of its own, so Postfix's log lines and headers of this test are its own. */
    static String uniqueLoopback() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return "127." + r.nextInt(100, 250) + "." + r.nextInt(1, 250) + "." + r.nextInt(2, 250);
    }

    /** The headers of the message with {@code subject} in bob's INBOX. */
    static String headers(String subject) {
        Processes.Result r = DevBackends.doveadm(
                "fetch", "-u", DevBackends.BOB, "hdr", "mailbox", "INBOX", "header", "Subject", subject);
        assertThat(r.exitCode()).as("%s", r).isZero();
        return r.stdout();
    }

    /** The body of the message with {@code subject} in bob's INBOX. */
    static String body(String subject) {
        Processes.Result r = DevBackends.doveadm(
                "fetch", "-u", DevBackends.BOB, "body", "mailbox", "INBOX", "header", "Subject", subject);
        assertThat(r.exitCode()).as("%s", r).isZero();
        return r.stdout();
    }

    static Processes.Result swaks(String... args) {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "swaks";
        System.arraycopy(args, 0, cmd, 1, args.length);
        return Processes.run(RUN, cmd);
    }

    static SmtpTestClient connect(String listener, String source) throws Exception {
        SmtpTestClient c = SmtpTestClient.connect(InetAddress.getByName(source), postern.port(listener));
        assertThat(c.replyLine()).isEqualTo("220 mx.postern.test ESMTP Postern");
        return c;
    }

    // ---- delivery with real clients

    @Test
    void swaksDeliversThroughStartTlsAndPostfixSeesTheClient() {
        String subject = subject("swaks-starttls");
        String source = uniqueLoopback();
        Processes.Result r = swaks(
                "--server",
                "127.0.0.1:" + postern.port("mx"),
                "--local-interface",
                source,
                "--ehlo",
                "sender.example",
                "--tls",
                "--from",
                "someone@sender.example",
                "--to",
                DevBackends.BOB,
                "--header",
                "Subject: " + subject,
                "--body",
                "hello through the edge");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).contains("<-  220 2.0.0 Ready to start TLS").contains(" ~> QUIT");
        assertDelivered(subject);
        String headers = headers(subject);
        // XCLIENT: Postfix's Received header names the real client and its EHLO, not Postern
        assertThat(headers).contains("from sender.example (unknown [" + source + "])");
        assertThat(body(subject)).contains("hello through the edge");
    }

    @Test
    void proxyProtocolTellsPostfixTheClient() {
        String subject = subject("proxy-v2");
        String source = uniqueLoopback();
        Processes.Result r = swaks(
                "--server",
                "127.0.0.1:" + postern.port("mx-proxy"),
                "--local-interface",
                source,
                "--ehlo",
                "proxied.example",
                "--from",
                "someone@sender.example",
                "--to",
                DevBackends.BOB,
                "--header",
                "Subject: " + subject,
                "--body",
                "hello through a PROXY header");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertDelivered(subject);
        assertThat(headers(subject)).contains("from proxied.example (unknown [" + source + "])");
    }

    @Test
    void implicitTlsListenerAndStartTlsToTheBackend() {
        String subject = subject("implicit");
        Processes.Result r = swaks(
                "--server",
                "127.0.0.1:" + postern.port("mx-tls"),
                "--tls-on-connect",
                "--ehlo",
                "tls.example",
                "--from",
                "",
                "--to",
                DevBackends.BOB,
                "--header",
                "Subject: " + subject,
                "--body",
                "a bounce, over TLS both ways");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertDelivered(subject);
        // Postfix logs the TLS connection from Postern (the hop) and the XCLIENT client (the session)
        assertThat(headers(subject)).contains("from tls.example").contains("with ESMTPS");
    }

    @Test
    void pythonSmtplibSendsTwoMessagesInOneConnection() {
        String first = subject("smtplib-1");
        String second = subject("smtplib-2");
        Processes.Result r = Processes.python(
                RUN,
                """
                import smtplib, sys
                s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="py.example", timeout=30)
                for subject in sys.argv[2:4]:
                    body = "From: a@py.example\\r\\nTo: bob@example.test\\r\\nSubject: " + subject + "\\r\\n\\r\\nhi\\r\\n"
                    print("SENT", s.sendmail("a@py.example", ["bob@example.test"], body))
                s.rset()
                print("QUIT", s.quit()[0])
                """,
                Integer.toString(postern.port("mx")),
                first,
                second);
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).contains("SENT {}\nSENT {}").contains("QUIT 221");
        assertDelivered(first);
        assertDelivered(second);
    }

    // ---- relay access

    /** A recipient trick and the reply Postern must give it (Postfix never sees it). */
    record Trick(String path, String reply) {}

    static List<Trick> relayTricks(String outside) {
        String denied = "554 5.7.1 %s: Relay access denied";
        return List.of(
                new Trick("<someone@" + outside + ">", denied.formatted("<someone@" + outside + ">")),
                new Trick("<bob%" + outside + "@example.test>", denied.formatted("<bob%" + outside + "@example.test>")),
                new Trick("<" + outside + "!bob@example.test>", denied.formatted("<" + outside + "!bob@example.test>")),
                // a source route is dropped (RFC 5321): what is checked is what would be forwarded
                new Trick("<@example.test:bob@" + outside + ">", denied.formatted("<bob@" + outside + ">")),
                new Trick(
                        "<@example.test,@a.example.test:bob@" + outside + ">",
                        denied.formatted("<bob@" + outside + ">")),
                new Trick(
                        "<\"bob@" + outside + "\"@example.test>",
                        denied.formatted("<\"bob@" + outside + "\"@example.test>")),
                new Trick(
                        "<\"bob%" + outside + "\"@example.test>",
                        denied.formatted("<\"bob%" + outside + "\"@example.test>")),
                new Trick("<bob@" + outside + "@example.test>", "501 5.1.3 Bad recipient address syntax"),
                new Trick("<bob@[192.0.2.1]>", denied.formatted("<bob@[192.0.2.1]>")),
                new Trick("<bob@example.test." + outside + ">", denied.formatted("<bob@example.test." + outside + ">")),
                new Trick("<bob@" + outside + ".>", denied.formatted("<bob@" + outside + ">")),
                new Trick(
                        "<BOB@" + outside.toUpperCase() + ">", denied.formatted("<BOB@" + outside.toUpperCase() + ">")),
                new Trick("bob@" + outside, "501 5.1.3 Bad recipient address syntax"),
                new Trick("<bob@" + outside + "> NOTIFY=NEVER", denied.formatted("<bob@" + outside + ">")));
    }

    @Test
    void relayTricksAreRefusedAndPostfixNeverSeesThem() throws Exception {
        String outside = "outside-" + UUID.randomUUID() + ".test";
        String source = uniqueLoopback();
        try (SmtpTestClient c = connect("mx", source)) {
            assertThat(c.command("EHLO tricks.example").get(0)).isEqualTo("250-mx.postern.test");
            assertThat(c.command("MAIL FROM:<spammer@tricks.example>")).containsExactly("250 2.1.0 Ok");
            for (Trick trick : relayTricks(outside)) {
                assertThat(c.command("RCPT TO:" + trick.path()))
                        .as(trick.path())
                        .containsExactly(trick.reply());
            }
            // the session is still fine for a local recipient, which Postfix does get
            assertThat(c.command("RCPT TO:<bob@example.test>")).containsExactly("250 2.1.5 Ok");
            assertThat(c.command("QUIT")).containsExactly("221 2.0.0 Bye");
        }
        Await.until("Postfix logged the session from " + source, DELIVERY, () -> DevBackends.postfixLog()
                .contains("[" + source + "]"));
        assertThat(DevBackends.postfixLog()).doesNotContain(outside);
    }

    @Test
    void aRouteMakesItsDomainsLocalAndPostfixAnswersForThem() throws Exception {
        String source = uniqueLoopback();
        String recipient = "bob-" + UUID.randomUUID() + "@sub.example.test";
        try (SmtpTestClient c = connect("mx", source)) {
            c.command("EHLO routes.example");
            c.command("MAIL FROM:<someone@routes.example>");
            // *.example.test is routed to Postfix's pool, so Postern passes the recipient on; Postfix has no such
            // domain and refuses it itself, which its log shows
            assertThat(c.command("RCPT TO:<" + recipient + ">").get(0)).startsWith("554 5.7.1 <" + recipient + ">");
            c.command("QUIT");
        }
        Await.until("Postfix refused " + recipient + " from " + source, DELIVERY, () -> DevBackends.postfixLog()
                .contains("RCPT from unknown[" + source + "]: 554 5.7.1 <" + recipient));
    }

    @Test
    void aTrustedClientMayRelayAnywhereAndPostfixDecides() throws Exception {
        String source = uniqueLoopback();
        String recipient = "someone@outside-" + UUID.randomUUID() + ".test";
        try (SmtpTestClient c = SmtpTestClient.connect(InetAddress.getByName(source), postern.port("mx-trusted"))) {
            c.replyLine();
            c.command("EHLO trusted.example");
            c.command("MAIL FROM:<app@trusted.example>");
            // Postern lets a trusted client relay; Postfix does not trust 127/8 and refuses, as its log shows
            assertThat(c.command("RCPT TO:<" + recipient + ">").get(0)).startsWith("554 5.7.1");
            c.command("QUIT");
        }
        Await.until("Postfix refused " + recipient, DELIVERY, () -> DevBackends.postfixLog()
                .contains(": 554 5.7.1 <" + recipient + ">: Relay access denied"));
    }

    @Test
    void commandsPipelinedAfterStartTlsCloseTheConnectionAndTlsForgetsTheEhlo() throws Exception {
        try (SmtpTestClient c = connect("mx", uniqueLoopback())) {
            c.command("EHLO injector.example");
            c.write("STARTTLS\r\nMAIL FROM:<injected@injector.example>\r\n");
            assertThat(c.closedByServer())
                    .as("bytes after STARTTLS are never executed")
                    .isTrue();
        }
        try (SmtpTestClient c = connect("mx", uniqueLoopback())) {
            c.command("EHLO honest.example");
            assertThat(c.command("STARTTLS")).containsExactly("220 2.0.0 Ready to start TLS");
            c.startTls(clientTls);
            assertThat(c.command("MAIL FROM:<a@honest.example>"))
                    .containsExactly("503 5.5.1 Error: send HELO/EHLO first");
            List<String> ehlo = c.command("EHLO honest.example");
            assertThat(ehlo).doesNotContain("250-STARTTLS", "250 STARTTLS");
            assertThat(c.command("QUIT")).containsExactly("221 2.0.0 Bye");
        }
    }
}
