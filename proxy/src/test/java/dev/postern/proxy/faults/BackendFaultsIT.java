package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.Await;
import dev.postern.testkit.FaultProxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backends that fail under a live session, injected by a {@link FaultProxy} between Postern and the real Dovecot:
 * killed mid IMAP session, mid POP3 RETR and mid SMTP DATA; accepting and never greeting; going silent mid-session.
 * Driven by Python's imaplib, poplib and smtplib. What each client sees is what the README's Reliability section
 * says.
 */
class BackendFaultsIT {
    private static final Duration RUN = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    private static FaultProxy imap;
    private static FaultProxy pop3;
    private static FaultProxy submission;
    private static FaultProxy silent;
    private static FaultProxy stalling;
    private static final ClosedSessions metrics = new ClosedSessions();
    private static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        imap = FaultProxy.start(DevBackends.IMAP);
        pop3 = FaultProxy.start(DevBackends.POP3);
        submission = FaultProxy.start(DevBackends.SUBMISSION);
        silent = FaultProxy.start(DevBackends.IMAP);
        silent.blackhole(true);
        stalling = FaultProxy.start(DevBackends.IMAP);
        String yaml =
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: imap}
                  - {name: pop3, protocol: pop3, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: pop3}
                  - {name: submission, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true,
                     pool: submission}
                  - {name: silent, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: silent,
                     timeouts: {connect: 1s}}
                  - {name: stalling, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true,
                     pool: stalling, timeouts: {idle: 2s}}
                pools:
                  - {name: imap, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: pop3, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: submission, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: silent, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: stalling, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                imap.port(),
                                pop3.port(),
                                submission.port(),
                                silent.port(),
                                stalling.port());
        postern = PosternHarness.start(yaml, dir, metrics);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
        for (FaultProxy p : new FaultProxy[] {imap, pop3, submission, silent, stalling}) {
            if (p != null) {
                p.close();
            }
        }
    }

    @AfterEach
    void everySessionEnds() {
        postern.awaitNoSessions();
        for (FaultProxy p : new FaultProxy[] {imap, pop3, submission, stalling}) {
            p.heal();
        }
    }

    private static Processes.Result python(String script, Object... args) {
        String[] a = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            a[i] = String.valueOf(args[i]);
        }
        return Processes.python(RUN, "import sys, time, imaplib, poplib, smtplib\n" + script, a);
    }

    @Test
    void aBackendKilledMidImapSessionEndsTheClientsConnectionAtOnce() {
        imap.killWhen(FaultProxy.Direction.TO_BACKEND, "fault-marker");
        Processes.Result r = python(
                """
                m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=30)
                print("login", m.login("alice@example.test", "alice-pw")[0])
                print("select", m.select("INBOX")[0])
                t = time.monotonic()
                try:
                    m.select("fault-marker")
                    print("answered")
                except (imaplib.IMAP4.abort, OSError) as e:
                    print("aborted %s after %.1fs" % (type(e).__name__, time.monotonic() - t))
                """,
                postern.port("imap"));

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout())
                .contains("login OK")
                .contains("select OK")
                .containsPattern("aborted \\w+ after [0-2]\\.");
        Await.until(
                "the session ended as backend-closed or backend-error",
                Duration.ofSeconds(10),
                () -> metrics.has("imap", "backend-closed") || metrics.has("imap", "backend-error"));
    }

    @Test
    void aBackendKilledMidPop3RetrNeverEndsTheMessageForTheClient() {
        String subject = "fault-retr-" + UUID.randomUUID();
        String body = "Subject: " + subject + "\r\n\r\n"
                + "x".repeat(76).concat("\r\n").repeat(3000) + "retr-marker\r\n"
                + "y".repeat(76).concat("\r\n").repeat(3000);
        Processes.Result save = Processes.runWithInput(
                RUN,
                body,
                "bash",
                DevBackends.repoRoot().resolve("scripts/dev-backends.sh").toString(),
                "doveadm",
                "save",
                "-u",
                DevBackends.ALICE,
                "-m",
                "INBOX");
        assertThat(save.exitCode()).as(save.toString()).isZero();
        assertThat(DevBackends.hasMessage(DevBackends.ALICE, subject))
                .as(save.toString())
                .isTrue();
        pop3.killWhen(FaultProxy.Direction.TO_CLIENT, "retr-marker");
        try {
            Processes.Result r = python(
                    """
                    p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=30)
                    p.user("alice@example.test")
                    print("pass", p.pass_("alice-pw").decode())
                    n = p.stat()[0]
                    print("last", p.top(n, 0)[1][0].decode())
                    try:
                        resp, lines, octets = p.retr(n)
                        print("retrieved %d lines" % len(lines))
                    except (poplib.error_proto, OSError) as e:
                        print("failed %s %s" % (type(e).__name__, e))
                    """,
                    postern.port("pop3"));

            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.stdout())
                    .contains("pass +OK")
                    .contains("last Subject: " + subject)
                    .contains("failed ")
                    .doesNotContain("retrieved");
        } finally {
            DevBackends.doveadm("expunge", "-u", DevBackends.ALICE, "mailbox", "INBOX", "header", "Subject", subject);
        }
    }

    @Test
    void aBackendKilledMidDataGivesTheClient421AndTheMessageIsNotDelivered() {
        String subject = "fault-data-" + UUID.randomUUID();
        submission.killWhen(FaultProxy.Direction.TO_BACKEND, "data-marker");
        Processes.Result r = python(
                """
                s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
                s.ehlo("client.example")
                s.login("alice@example.test", "alice-pw")
                msg = "From: alice@example.test\\r\\nTo: bob@example.test\\r\\nSubject: %s\\r\\n\\r\\nhello\\r\\ndata-marker\\r\\n" % sys.argv[2]
                try:
                    s.sendmail("alice@example.test", ["bob@example.test"], msg)
                    print("accepted")
                except smtplib.SMTPResponseException as e:
                    print("refused", e.smtp_code, e.smtp_error.decode())
                except smtplib.SMTPServerDisconnected as e:
                    print("disconnected", e)
                """,
                postern.port("submission"), subject);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("refused 421 4.4.2").doesNotContain("accepted");
        assertThat(DevBackends.hasMessage(DevBackends.BOB, subject)).isFalse();
    }

    @Test
    void aBackendThatAcceptsAndNeverGreetsIsGivenUpAfterTheConnectTimeout() {
        Processes.Result r = python(
                """
                m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=30)
                t = time.monotonic()
                try:
                    m.login("alice@example.test", "alice-pw")
                    print("logged in")
                except imaplib.IMAP4.error as e:
                    print("refused after %.1fs: %s" % (time.monotonic() - t, e))
                """,
                postern.port("silent"));

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).containsPattern("refused after [0-4]\\.\\d+s: .*UNAVAILABLE");
    }

    @Test
    void aBackendThatGoesSilentMidSessionEndsItAtTheIdleTimeout() {
        stalling.stallWhen(FaultProxy.Direction.TO_BACKEND, "stall-marker");
        Processes.Result r = python(
                """
                m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=30)
                print("login", m.login("alice@example.test", "alice-pw")[0])
                t = time.monotonic()
                try:
                    m.select("stall-marker")
                    print("answered")
                except (imaplib.IMAP4.abort, OSError) as e:
                    print("closed after %.1fs" % (time.monotonic() - t))
                """,
                postern.port("stalling"));

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("login OK").containsPattern("closed after [2-5]\\.\\d");
        Await.until(
                "the session ended with idle-timeout",
                Duration.ofSeconds(10),
                () -> metrics.has("stalling", "idle-timeout"));
    }
}
