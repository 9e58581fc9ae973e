package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.SmtpTestClient;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DNS down for the port-25 edge: Postern's resolver is a loopback address where no name server listens, so every DNS
 * list query and every SPF lookup fails. With the defaults ({@code dnsbl-failure: accept}, {@code spf.temperror:
 * accept}) the edge fails open and the real Postfix gets the message; with {@code tempfail} the client gets a 4xx at
 * the stage of the check (RCPT for the lists, MAIL for SPF) and nothing reaches Postfix.
 */
class DnsDownIT {
    @TempDir
    static Path dir;

    private static PosternHarness postern;

    @BeforeAll
    static void start() throws Exception {
        DevBackends.ensureStarted();
        int deadResolver;
        try (DatagramSocket probe = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            deadResolver = probe.getLocalPort(); // closed again: nothing answers there
        }
        String relay = "role: relay, hostname: mx.postern.test, local-domains: [example.test]";
        String lists = "dnsbl: {sites: [zen.dnsbl.test], timeout: 1s}";
        String yaml =
                """
                dns:
                  servers: ["127.0.0.1:%1$d"]
                  timeout: 500ms
                listeners:
                  - {name: open, protocol: smtp, bind: "127.0.0.1:%2$d", pool: postfix,
                     smtp: {%3$s, %4$s, spf: {policy: annotate, timeout: 1s}}}
                  - {name: lists-closed, protocol: smtp, bind: "127.0.0.1:%5$d", pool: postfix,
                     smtp: {%3$s, %4$s, dnsbl-failure: tempfail}}
                  - {name: spf-closed, protocol: smtp, bind: "127.0.0.1:%6$d", pool: postfix,
                     smtp: {%3$s, spf: {policy: reject, timeout: 1s, temperror: tempfail}}}
                pools:
                  - {name: postfix, backends: [{address: "127.0.0.1:%7$d", identity: xclient}]}
                """
                        .formatted(
                                deadResolver,
                                FreePorts.next(),
                                relay,
                                lists,
                                FreePorts.next(),
                                FreePorts.next(),
                                DevBackends.SMTP);
        postern = PosternHarness.start(yaml, dir);
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

    private static String uniqueLoopback() {
        return "127.31." + (int) (Math.random() * 250 + 1) + "." + (int) (Math.random() * 240 + 2);
    }

    private static SmtpTestClient connect(String listener, String source) throws Exception {
        SmtpTestClient c = SmtpTestClient.connect(InetAddress.getByName(source), postern.port(listener));
        assertThat(c.replyLine()).isEqualTo("220 mx.postern.test ESMTP Postern");
        assertThat(c.command("EHLO client.dns-down.test").get(0)).startsWith("250");
        return c;
    }

    @Test
    void byDefaultTheEdgeFailsOpenAndTheMessageIsDelivered() throws Exception {
        String subject = "postern-dns-down-open-" + UUID.randomUUID();
        try (SmtpTestClient c = connect("open", uniqueLoopback())) {
            assertThat(c.command("MAIL FROM:<someone@sender.dns-down.test>")).containsExactly("250 2.1.0 Ok");
            assertThat(c.command("RCPT TO:<" + DevBackends.BOB + ">").get(0)).startsWith("250");
            assertThat(c.command("DATA").get(0)).startsWith("354");
            c.send("Subject: " + subject + "\r\n\r\nDNS was down\r\n.");
            assertThat(c.reply().get(0)).startsWith("250 2.0.0");
            c.command("QUIT");
        }
        Await.until(
                "the message in bob's INBOX",
                Duration.ofSeconds(30),
                () -> DevBackends.hasMessage(DevBackends.BOB, subject));
    }

    @Test
    void listsThatCannotBeAskedTempfailEveryRecipientWhenConfigured() throws Exception {
        String source = uniqueLoopback();
        try (SmtpTestClient c = connect("lists-closed", source)) {
            assertThat(c.command("MAIL FROM:<someone@sender.dns-down.test>")).containsExactly("250 2.1.0 Ok");
            assertThat(c.command("RCPT TO:<" + DevBackends.BOB + ">"))
                    .containsExactly("451 4.7.1 Service unavailable; client [" + source
                            + "] not checked: zen.dnsbl.test did not answer; try again later");
            c.command("QUIT");
        }
        assertThat(DevBackends.postfixLog()).doesNotContain("[" + source + "]");
    }

    @Test
    void spfTemperrorTempfailsTheSenderWhenConfigured() throws Exception {
        String source = uniqueLoopback();
        try (SmtpTestClient c = connect("spf-closed", source)) {
            assertThat(c.command("MAIL FROM:<someone@sender.dns-down.test>"))
                    .containsExactly("451 4.4.3 <someone@sender.dns-down.test>: Sender address rejected: SPF"
                            + " temporary error; try again later");
            c.command("QUIT");
        }
        assertThat(DevBackends.postfixLog()).doesNotContain("[" + source + "]");
    }
}
