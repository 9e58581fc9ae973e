package dev.postern.proxy.smtp.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.testing.TestDns;
import dev.postern.testkit.Await;
import dev.postern.testkit.SmtpTestClient;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay's DNS checks for real, as an operator configures them: Postern's resolver asks dnsmasq on loopback, which
 * serves the SPF test world and forwards the DNS list zones to rbldnsd ({@link TestDns}); the backend is the real
 * Postfix. {@code err.dnsbl.test} lists every address (with 127.255.255.254, which a reply filter rejects) and {@code
 * slow.dnsbl.test} never answers, so loopback clients can be listed, passed and timed out; {@code fail.spf.test} and
 * {@code neutral.spf.test} give loopback senders {@code fail} and {@code neutral}.
 */
class SmtpEdgeDnsIT {
    private static final Duration RUN = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    private static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        TestDns dns = TestDns.get();
        String relay = "role: relay, hostname: mx.postern.test, local-domains: [example.test]";
        String yaml =
                """
                dns:
                  servers: ["%1$s"]
                  timeout: 2s
                listeners:
                  - {name: listed, protocol: smtp, bind: "127.0.0.1:%2$d", pool: postfix,
                     smtp: {%3$s, dnsbl: {sites: [err.dnsbl.test], threshold: 1, timeout: 3s}}}
                  - {name: filtered, protocol: smtp, bind: "127.0.0.1:%4$d", pool: postfix,
                     smtp: {%3$s, spf: {policy: annotate},
                            dnsbl: {sites: ["err.dnsbl.test=127.0.0.[2..11]*5", "zen.dnsbl.test=127.0.0.[2..11]*3"],
                                    threshold: 3, timeout: 3s}}}
                  - {name: slow, protocol: smtp, bind: "127.0.0.1:%5$d", pool: postfix,
                     smtp: {%3$s, dnsbl: {sites: [slow.dnsbl.test], timeout: 700ms}}}
                  - {name: enforce, protocol: smtp, bind: "127.0.0.1:%6$d", pool: postfix,
                     smtp: {%3$s, dnsbl: {sites: ["err.dnsbl.test*2"], threshold: 2, timeout: 3s},
                            dnsbl-action: enforce}}
                  - {name: spf-reject, protocol: smtp, bind: "127.0.0.1:%7$d", pool: postfix,
                     smtp: {%3$s, spf: {policy: reject, timeout: 5s}}}
                pools:
                  - {name: postfix, backends: [{address: "127.0.0.1:%8$d", identity: xclient}]}
                """
                        .formatted(
                                dns.server(),
                                FreePorts.next(),
                                relay,
                                FreePorts.next(),
                                FreePorts.next(),
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

    private static SmtpTestClient connect(String listener, String source) throws Exception {
        return SmtpTestClient.connect(InetAddress.getByName(source), postern.port(listener));
    }

    @Test
    void aClientTheListsBlockIsDroppedBeforeTheGreeting() throws Exception {
        String source = SmtpRelayIT.uniqueLoopback();
        try (SmtpTestClient c = connect("listed", source)) {
            assertThat(c.readLine())
                    .isEqualTo("521 5.7.1 Service unavailable; client [" + source + "] blocked using err.dnsbl.test");
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(DevBackends.postfixLog()).doesNotContain("[" + source + "]");
    }

    @Test
    void aReplyFilterKeepsAListsErrorCodeFromCountingAndSpfAnnotatesTheMessage() {
        String subject = SmtpRelayIT.subject("dns-filtered");
        String source = SmtpRelayIT.uniqueLoopback();
        Processes.Result r = Processes.run(
                RUN,
                "swaks",
                "--server",
                "127.0.0.1:" + postern.port("filtered"),
                "--local-interface",
                source,
                "--ehlo",
                "sender.neutral.spf.test",
                "--from",
                "someone@neutral.spf.test",
                "--to",
                DevBackends.BOB,
                "--header",
                "Subject: " + subject,
                "--body",
                "checked by real DNS");
        assertThat(r.exitCode()).as("%s", r).isZero();
        SmtpRelayIT.assertDelivered(subject);
        String headers = SmtpRelayIT.headers(subject);
        assertThat(headers)
                .contains("Received-SPF: neutral (mx.postern.test:")
                .contains("client-ip=" + source + ";")
                .contains("envelope-from=\"someone@neutral.spf.test\";")
                .contains("from sender.neutral.spf.test (unknown [" + source + "])");
    }

    @Test
    void listsThatNeverAnswerDelayTheGreetingOnlyUntilTheirTimeout() throws Exception {
        long start = System.nanoTime();
        try (SmtpTestClient c = connect("slow", SmtpRelayIT.uniqueLoopback())) {
            assertThat(c.replyLine()).isEqualTo("220 mx.postern.test ESMTP Postern");
            long waited = System.nanoTime() - start;
            assertThat(waited)
                    .isBetween(
                            Duration.ofMillis(700).toNanos(),
                            Duration.ofSeconds(5).toNanos());
            c.command("QUIT");
        }
    }

    @Test
    void enforceGreetsAListedClientAndRefusesItsRecipients() throws Exception {
        String source = SmtpRelayIT.uniqueLoopback();
        try (SmtpTestClient c = connect("enforce", source)) {
            assertThat(c.replyLine()).isEqualTo("220 mx.postern.test ESMTP Postern");
            c.command("EHLO listed.example");
            assertThat(c.command("MAIL FROM:<a@listed.example>")).containsExactly("250 2.1.0 Ok");
            assertThat(c.command("RCPT TO:<bob@example.test>"))
                    .containsExactly(
                            "550 5.7.1 Service unavailable; client [" + source + "] blocked using" + " err.dnsbl.test");
            c.command("QUIT");
        }
    }

    @Test
    void spfRejectRefusesAFailingSenderAndTakesANeutralOne() throws Exception {
        try (SmtpTestClient c = connect("spf-reject", SmtpRelayIT.uniqueLoopback())) {
            c.replyLine();
            c.command("EHLO client.example");
            assertThat(c.command("MAIL FROM:<forger@fail.spf.test>").get(0))
                    .startsWith("550 5.7.23 <forger@fail.spf.test>: Sender address rejected: SPF fail");
            assertThat(c.command("MAIL FROM:<someone@neutral.spf.test>")).containsExactly("250 2.1.0 Ok");
            c.command("QUIT");
        }
        Await.until("sessions closed", Duration.ofSeconds(10), () -> postern.sessions() == 0);
    }
}
