package dev.postern.proxy.lmtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.Await;
import dev.postern.testkit.SmtpTestClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LMTP through Postern into two real Dovecot lmtpd backends: alice's mailbox on the first, bob's on the second (by
 * route). swaks in LMTP mode delivers to both in one transaction and gets one reply per recipient; the messages are
 * found by doveadm in the right mailboxes only; the second Dovecot stopped in the middle of a message fails bob's
 * delivery temporarily while alice's goes through.
 */
class LmtpDeliveryIT {
    @TempDir
    static Path dir;

    static DevBackends.Instance second;
    static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        second = DevBackends.second().ensureStarted();
        String yaml =
                """
                listeners:
                  - {name: lmtp, protocol: lmtp, bind: "127.0.0.1:%d", pool: one}
                  - {name: from-postfix, protocol: lmtp, bind: "127.0.0.1:%d", pool: one}
                pools:
                  - {name: one, backends: [{address: "127.0.0.1:%d", identity: xclient}]}
                  - {name: two, backends: [{address: "127.0.0.1:%d", identity: xclient}]}
                routes:
                  users: {bob@example.test: two, bob+postern@example.test: two}
                """
                        .formatted(
                                FreePorts.next(),
                                DevBackends.POSTERN_LMTP,
                                DevBackends.LMTP,
                                second.port(DevBackends.LMTP));
        postern = PosternHarness.start(yaml, dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private static String subject(String what) {
        return what + " " + UUID.randomUUID();
    }

    @Test
    void swaksDeliversToBothBackendsAndGetsOneReplyPerRecipient() {
        String subject = subject("lmtp split");
        Processes.Result r = Processes.run(
                Duration.ofSeconds(60),
                "swaks",
                "--protocol",
                "LMTP",
                "--server",
                "127.0.0.1",
                "--port",
                String.valueOf(postern.port("lmtp")),
                "--helo",
                "mta.test",
                "--from",
                "sender@remote.test",
                "--to",
                "alice@example.test,nobody@example.test,bob@example.test",
                "--header",
                "Subject: " + subject);
        String out = r.all();
        // the unknown user is refused by the first Dovecot itself (the listener's pool) at RCPT time
        assertThat(out).containsPattern("<\\*\\* +550 5\\.1\\.1 <nobody@example\\.test>");
        // after the end of data: alice's reply, then bob's, each from its own Dovecot
        assertThat(out)
                .containsPattern("(?s)<- +250 2\\.0\\.0 <alice@example\\.test> \\S+ Saved.*"
                        + "<- +250 2\\.0\\.0 <bob@example\\.test> \\S+ Saved");
        Await.until(
                "alice's message on the first Dovecot",
                Duration.ofSeconds(10),
                () -> DevBackends.hasMessage(DevBackends.ALICE, subject));
        assertThat(second.hasMessage(DevBackends.BOB, subject)).isTrue();
        assertThat(DevBackends.hasMessage(DevBackends.BOB, subject)).isFalse();
        assertThat(second.hasMessage(DevBackends.ALICE, subject)).isFalse();
        // Dovecot learned the MTA's address and name through XCLIENT
        assertThat(DevBackends.dovecotLog()).doesNotContain("XCLIENT denied");
        postern.awaitNoSessions();
    }

    @Test
    void postfixDeliversWithLmtpThroughPosternIntoBothMailboxes() {
        String subject = subject("postfix lmtp");
        Processes.Result r = Processes.run(
                Duration.ofSeconds(60),
                "swaks",
                "--server",
                "127.0.0.1",
                "--port",
                String.valueOf(DevBackends.SMTP),
                "--from",
                "sender@remote.test",
                "--to",
                "alice+postern@example.test,bob+postern@example.test",
                "--header",
                "Subject: " + subject);
        assertThat(r.exitCode()).as("swaks to Postfix\n%s", r).isZero();
        Await.until(
                "both messages delivered",
                Duration.ofSeconds(30),
                () -> DevBackends.hasMessage(DevBackends.ALICE, subject)
                        && second.hasMessage(DevBackends.BOB, subject));
        assertThat(DevBackends.hasMessage(DevBackends.BOB, subject)).isFalse();
        // Postfix's lmtp client went through Postern's listener and got a reply per recipient
        String relay = "relay=127.0.0.1[127.0.0.1]:" + DevBackends.POSTERN_LMTP;
        Await.until(
                "both deliveries logged",
                Duration.ofSeconds(10),
                () -> DevBackends.postfixLog()
                                .lines()
                                .filter(l -> l.contains(relay) && l.contains("status=sent") && l.contains("Saved"))
                                .filter(l -> l.contains("<alice+postern@example.test>")
                                        || l.contains("<bob+postern@example.test>"))
                                .count()
                        >= 2);
    }

    @Test
    void aBackendStoppedMidMessageFailsOnlyItsRecipientsTemporarily() {
        String subject = subject("lmtp failover");
        try (SmtpTestClient c = SmtpTestClient.connect(postern.port("lmtp"))) {
            assertThat(c.replyLine()).startsWith("220 ");
            c.command("LHLO mta.test");
            assertThat(c.command("MAIL FROM:<sender@remote.test>")).containsExactly("250 2.1.0 Ok");
            assertThat(c.command("RCPT TO:<bob@example.test>"))
                    .singleElement()
                    .asString()
                    .startsWith("250 ");
            assertThat(c.command("RCPT TO:<alice@example.test>"))
                    .singleElement()
                    .asString()
                    .startsWith("250 ");
            assertThat(c.command("DATA")).singleElement().asString().startsWith("354 ");
            c.write("Subject: " + subject + "\r\n\r\nfirst half\r\n");
            second.stop();
            c.write("second half\r\n.\r\n");
            List<String> replies = List.of(c.replyLine(), c.replyLine());
            assertThat(replies.get(0)).startsWith("451 4.4.2");
            assertThat(replies.get(1)).matches("250 2\\.0\\.0 <alice@example\\.test> \\S+ Saved");
            assertThat(c.command("QUIT")).containsExactly("221 2.0.0 Bye");
        } finally {
            second.ensureStarted();
        }
        assertThat(DevBackends.hasMessage(DevBackends.ALICE, subject)).isTrue();
        assertThat(second.hasMessage(DevBackends.BOB, subject)).isFalse();
        postern.awaitNoSessions();
    }
}
