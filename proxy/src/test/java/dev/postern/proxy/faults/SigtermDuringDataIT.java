package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.testkit.Await;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code SIGTERM} while a client is in the middle of a message, on submission (after AUTH, relayed to Dovecot's
 * submission service) and on the port-25 edge (to Postfix), with a real Postern process and Python's smtplib sending
 * the message slowly. A message that ends within {@code timeouts.shutdown-grace} is delivered (250); one still
 * trickling when the grace ends gets {@code 421 4.3.2} before the connection closes, and is not delivered.
 */
class SigtermDuringDataIT {
    private static final String CLIENT =
            """
            import select, smtplib, sys, time
            port, login, subject, seconds = int(sys.argv[1]), sys.argv[2] == "login", sys.argv[3], float(sys.argv[4])
            s = smtplib.SMTP("127.0.0.1", port, timeout=30)
            s.ehlo("client.example")
            if login:
                s.login("alice@example.test", "alice-pw")
            s.mail("alice@example.test")
            s.rcpt("bob@example.test")
            s.putcmd("DATA")
            code, _ = s.getreply()
            assert code == 354, code
            s.send(("Subject: %s\\r\\n\\r\\n" % subject).encode())
            print("in-data", flush=True)
            end = time.monotonic() + seconds
            early = None
            while time.monotonic() < end and early is None:
                try:
                    s.send(b"a line of a slow message\\r\\n")
                except (OSError, smtplib.SMTPServerDisconnected):
                    break
                readable, _, _ = select.select([s.sock], [], [], 0.2)
                if readable:
                    early = s.sock.recv(1000)
            if early is not None:
                print("reply before the end:", early.decode().strip() or "(closed)", flush=True)
            else:
                try:
                    s.send(b".\\r\\n")
                    code, text = s.getreply()
                    print("reply", code, text.decode(), flush=True)
                except (OSError, smtplib.SMTPServerDisconnected) as e:
                    print("silent close:", e, flush=True)
            """;

    @TempDir
    static Path dir;

    @BeforeAll
    static void backends() {
        DevBackends.ensureStarted();
    }

    private static String yaml(int submission, int edge) {
        return """
                listeners:
                  - {name: submission, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true,
                     pool: submission}
                  - {name: edge, protocol: smtp, bind: "127.0.0.1:%d", pool: postfix,
                     smtp: {role: relay, hostname: mx.postern.test, local-domains: [example.test]}}
                pools:
                  - {name: submission, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: postfix, backends: [{address: "127.0.0.1:%d", identity: xclient}]}
                timeouts: {shutdown-grace: 3s}
                """
                .formatted(submission, edge, DevBackends.SUBMISSION, DevBackends.SMTP);
    }

    @ParameterizedTest(name = "{0}, message takes {1}s")
    @CsvSource({"submission, 0.5", "submission, 8", "edge, 0.5", "edge, 8"})
    void aMessageInFlightFinishesWithinTheGraceOrGets421(String listener, double seconds) throws Exception {
        int submission = FreePorts.next();
        int edge = FreePorts.next();
        String subject = "postern-sigterm-" + listener + "-" + UUID.randomUUID();
        try (PosternProcess postern =
                PosternProcess.start(dir, yaml(submission, edge), List.of(), "submission", "edge")) {
            Process client = new ProcessBuilder(
                            "python3",
                            "-c",
                            CLIENT,
                            String.valueOf(listener.equals("edge") ? edge : submission),
                            listener.equals("edge") ? "no-login" : "login",
                            subject,
                            String.valueOf(seconds))
                    .redirectErrorStream(true)
                    .start();
            List<String> said = new CopyOnWriteArrayList<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader r =
                        new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        said.add(line);
                    }
                } catch (java.io.IOException ignored) {
                    // ended
                }
            });
            reader.start();
            try {
                Await.until("the client is in DATA", Duration.ofSeconds(20), () -> said.contains("in-data"));
                postern.terminate();
                assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
                reader.join(5000);
                System.out.printf("sigterm %s %ss: client saw %s%n", listener, seconds, said);
                if (seconds < 3) {
                    assertThat(said).anyMatch(l -> l.startsWith("reply 250"));
                    Await.until(
                            "the message in bob's INBOX",
                            Duration.ofSeconds(30),
                            () -> DevBackends.hasMessage(DevBackends.BOB, subject));
                } else {
                    assertThat(said).anyMatch(l -> l.startsWith("reply before the end: 421 4.3.2"));
                    assertThat(said).noneMatch(l -> l.startsWith("reply 250"));
                }
                assertThat(postern.exited(Duration.ofSeconds(15))).isTrue();
            } finally {
                client.destroyForcibly();
            }
        }
        if (seconds >= 3) {
            assertThat(DevBackends.hasMessage(DevBackends.BOB, subject)).isFalse();
        }
    }
}
