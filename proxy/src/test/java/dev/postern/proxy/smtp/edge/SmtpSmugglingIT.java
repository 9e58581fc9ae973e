package dev.postern.proxy.smtp.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.Await;
import dev.postern.testkit.SmtpTestClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SMTP smuggling (the 2023 {@code <LF>.<CR><LF>} class) through Postern to the real Postfix, which on its own takes
 * these sequences for the end of the data (the control test shows it): a message that hides a second transaction
 * behind a non-standard end of data must reach Postfix as exactly the one message the client sent (normalize), or
 * not at all (reject), and never as two.
 */
class SmtpSmugglingIT {
    private static final Duration DELIVERY = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    private static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        String yaml =
                """
                listeners:
                  - {name: reject, protocol: smtp, bind: "127.0.0.1:%d", pool: postfix,
                     smtp: {role: relay, hostname: mx.postern.test, local-domains: [example.test]}}
                  - {name: normalize, protocol: smtp, bind: "127.0.0.1:%d", pool: postfix,
                     smtp: {role: relay, hostname: mx.postern.test, local-domains: [example.test],
                            data: {bare-lf: normalize}}}
                pools:
                  - {name: postfix, backends: [{address: "127.0.0.1:%d", identity: xclient}]}
                """
                        .formatted(FreePorts.next(), FreePorts.next(), DevBackends.SMTP);
        postern = PosternHarness.start(yaml, dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    /** The smuggling sequences, as Java escapes in the test names. */
    private static String sequence(String name) {
        return name.replace("LF", "\n").replace("CR", "\r").replace("_", "");
    }

    /**
     * One write: a transaction whose message ends with {@code sequence}, followed by a complete second transaction
     * that only a server fooled by the sequence would see.
     */
    private static String payload(String sequence, String subject, String smuggled) {
        return "EHLO smuggler.example\r\n"
                + "MAIL FROM:<a@smuggler.example>\r\n"
                + "RCPT TO:<bob@example.test>\r\n"
                + "DATA\r\n"
                + "From: a@smuggler.example\r\nTo: bob@example.test\r\nSubject: " + subject + "\r\n\r\n"
                + "the intended body" + sequence
                + "MAIL FROM:<admin@example.test>\r\n"
                + "RCPT TO:<bob@example.test>\r\n"
                + "DATA\r\n"
                + "From: admin@example.test\r\nTo: bob@example.test\r\nSubject: " + smuggled + "\r\n\r\n"
                + "smuggled\r\n"
                + ".\r\n"
                + "QUIT\r\n";
    }

    /** Sends {@code payload} in one write and reads every reply until the connection closes. */
    private static List<String> sendAll(int port, String payload) {
        List<String> replies = new ArrayList<>();
        try (SmtpTestClient c = SmtpTestClient.connect(port)) {
            c.write(payload);
            String line;
            while ((line = c.readLine()) != null) {
                replies.add(line);
            }
        }
        return replies;
    }

    /** A message of its own, sent after the test's, whose arrival shows Postfix has delivered what came before. */
    private static void sendMarkerAndAwaitIt(int port) {
        String marker = "postern-smuggling-marker-" + UUID.randomUUID();
        List<String> replies = sendAll(
                port,
                "EHLO marker.example\r\nMAIL FROM:<m@marker.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
                        + "Subject: " + marker + "\r\n\r\nmarker\r\n.\r\nQUIT\r\n");
        assertThat(replies).anyMatch(l -> l.startsWith("250 2.0.0 Ok: queued"));
        Await.until("the marker message", DELIVERY, () -> DevBackends.hasMessage(DevBackends.BOB, marker));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"LF.CRLF", "LF.LF", "CRLF.LF", "CR.CRLF", "CR.CR", "CRLF.CR_", "LF.CR_LF"})
    void rejectModeRefusesTheMessageAndDeliversNothing(String name) {
        String subject = "postern-smuggling-reject-" + UUID.randomUUID();
        String smuggled = "postern-smuggled-" + UUID.randomUUID();
        List<String> replies = sendAll(postern.port("reject"), payload(sequence(name), subject, smuggled));

        assertThat(replies).contains("354 End data with <CR><LF>.<CR><LF>");
        assertThat(replies.get(replies.size() - 1))
                .matches("521 5\\.5\\.2 mx\\.postern\\.test Error: bare <(LF|CR)>" + " received");
        assertThat(replies).noneMatch(l -> l.startsWith("250 2.0.0 Ok: queued"));
        sendMarkerAndAwaitIt(postern.port("reject"));
        assertThat(DevBackends.hasMessage(DevBackends.BOB, subject))
                .as("the refused message")
                .isFalse();
        assertThat(DevBackends.hasMessage(DevBackends.BOB, smuggled))
                .as("the smuggled message")
                .isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"LF.CRLF", "LF.LF", "CRLF.LF", "CR.CRLF", "CR.CR", "CRLF.CR_", "LF.CR_LF"})
    void normalizeModeDeliversExactlyTheOneMessageTheClientSent(String name) {
        String subject = "postern-smuggling-normalize-" + UUID.randomUUID();
        String smuggled = "postern-smuggled-" + UUID.randomUUID();
        List<String> replies = sendAll(postern.port("normalize"), payload(sequence(name), subject, smuggled));

        // one transaction: one 354, one queued message, then the goodbye
        assertThat(replies.stream().filter(l -> l.startsWith("354"))).hasSize(1);
        assertThat(replies.stream().filter(l -> l.startsWith("250 2.0.0 Ok: queued")))
                .hasSize(1);
        assertThat(replies.get(replies.size() - 1)).isEqualTo("221 2.0.0 Bye");
        Await.until("the message", DELIVERY, () -> DevBackends.hasMessage(DevBackends.BOB, subject));
        sendMarkerAndAwaitIt(postern.port("normalize"));
        assertThat(DevBackends.hasMessage(DevBackends.BOB, smuggled))
                .as("the smuggled message")
                .isFalse();
        // the would-be second transaction is text in the first message's body
        String body = Processes.run(
                        Duration.ofSeconds(30),
                        "bash",
                        DevBackends.repoRoot()
                                .resolve("scripts/dev-backends.sh")
                                .toString(),
                        "doveadm",
                        "fetch",
                        "-u",
                        DevBackends.BOB,
                        "body",
                        "mailbox",
                        "INBOX",
                        "header",
                        "Subject",
                        subject)
                .stdout();
        assertThat(body)
                .contains("the intended body")
                .contains("MAIL FROM:<admin@example.test>")
                .contains("Subject: " + smuggled)
                .contains("smuggled");
    }

    private static Path backendsDir() {
        String env = System.getenv("POSTERN_BACKENDS_DIR");
        return env != null ? Path.of(env) : DevBackends.repoRoot().resolve("run/backends");
    }

    @Test
    void controlPostfixAloneIsFooledByLfDotCrLf() {
        Processes.Result setting = Processes.run(
                Duration.ofSeconds(30),
                "postconf",
                "-c",
                backendsDir().resolve("postfix/etc").toString(),
                "-h",
                "smtpd_forbid_bare_newline");
        assumeTrue(
                setting.exitCode() != 0 || setting.stdout().trim().equals("no"),
                "this Postfix refuses bare newlines itself");
        String subject = "postern-smuggling-control-" + UUID.randomUUID();
        String smuggled = "postern-smuggled-control-" + UUID.randomUUID();
        // straight to Postfix, with the client's address passed as Postern would (Postfix only relays for XCLIENT
        // hosts it trusts); Postfix takes LF.CRLF for the end of the data and runs the second transaction
        List<String> replies = sendAll(DevBackends.SMTP, payload("\n.\r\n", subject, smuggled));
        assertThat(replies.stream().filter(l -> l.startsWith("250 2.0.0 Ok: queued")))
                .hasSize(2);
        Await.until("the smuggled message", DELIVERY, () -> DevBackends.hasMessage(DevBackends.BOB, smuggled));
    }
}
