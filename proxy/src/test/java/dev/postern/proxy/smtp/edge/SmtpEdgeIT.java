package dev.postern.proxy.smtp.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.Await;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zombie blocking and the limits of a relay listener configured as an operator would, in front of the real
 * Postfix, driven by real clients: swaks waits for the pregreet banner's end and delivers; a raw socket that talks
 * first is dropped; concurrent connections, connection rate, messages, recipients and errors are counted per client
 * (each test from a loopback address of its own).
 */
class SmtpEdgeIT {
    private static final Duration RUN = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    private static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        String yaml =
                """
                listeners:
                  - {name: pregreet, protocol: smtp, bind: "127.0.0.1:%d", pool: postfix,
                     smtp: {role: relay, hostname: mx.postern.test, local-domains: [example.test],
                            pregreet: {banner: "mx.postern.test ESMTP - patience", wait: 1s}}}
                  - {name: limits, protocol: smtp, bind: "127.0.0.1:%d", pool: postfix,
                     smtp: {role: relay, hostname: mx.postern.test, local-domains: [example.test],
                            limits: {connections-per-client: 2, connections-per-minute: 4, messages-per-connection: 2,
                                     recipients-per-message: 2, errors-per-session: 3}}}
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

    @AfterEach
    void everySessionEnds() {
        postern.awaitNoSessions();
    }

    // ---- pregreet

    @Test
    void swaksWaitsForTheWholeGreetingAndDelivers() {
        String subject = SmtpRelayIT.subject("pregreet-swaks");
        long start = System.nanoTime();
        Processes.Result r = Processes.run(
                RUN,
                "swaks",
                "--server",
                "127.0.0.1:" + postern.port("pregreet"),
                "--local-interface",
                SmtpRelayIT.uniqueLoopback(),
                "--ehlo",
                "patient.example",
                "--from",
                "someone@patient.example",
                "--to",
                DevBackends.BOB,
                "--header",
                "Subject: " + subject,
                "--body",
                "waited for my turn");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout())
                .contains("<-  220-mx.postern.test ESMTP - patience")
                .contains("<-  220 mx.postern.test ESMTP Postern")
                .contains("<-  250 2.0.0 Ok: queued as");
        assertThat(System.nanoTime() - start)
                .isGreaterThanOrEqualTo(Duration.ofSeconds(1).toNanos());
        SmtpRelayIT.assertDelivered(subject);
    }

    @Test
    void aRawSocketThatTalksFirstIsDroppedAndPostfixNeverHearsOfIt() {
        String source = SmtpRelayIT.uniqueLoopback();
        Processes.Result r = Processes.python(
                RUN,
                """
                import socket, sys
                s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10, source_address=(sys.argv[2], 0))
                s.sendall(b"EHLO zombie.example\\r\\nMAIL FROM:<spam@zombie.example>\\r\\n")
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                print(data.decode().replace("\\r\\n", "|"))
                """,
                Integer.toString(postern.port("pregreet")),
                source);
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout().trim())
                .isEqualTo("220-mx.postern.test ESMTP - patience|"
                        + "521 5.5.1 mx.postern.test Error: protocol error (talked before the greeting)|");
        assertThat(DevBackends.postfixLog()).doesNotContain("[" + source + "]");
    }

    // ---- limits per client

    private static final String LIMITS_CLIENT =
            """
            import smtplib, socket, sys, time
            port, source, what = int(sys.argv[1]), sys.argv[2], sys.argv[3]
            def connect():
                s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
                f = s.makefile("rb")
                return s, f.readline().decode().strip()
            if what == "concurrent":
                a, ga = connect()
                b, gb = connect()
                c, gc = connect()
                print("GREETINGS", ga, "|", gb, "|", gc)
                a.close()
                time.sleep(0.5)
                d, gd = connect()
                print("AFTER-CLOSE", gd)
            elif what == "rate":
                for i in range(5):
                    s, g = connect()
                    print("CONNECT", i + 1, g)
                    try:
                        s.sendall(b"QUIT\\r\\n")
                        # wait for the 221 and the server's close, so the next connection is not a concurrent one
                        s.makefile("rb").read()
                    except ConnectionResetError:
                        pass  # a refused connection is closed after its 421: the QUIT may meet the close
                    s.close()
            elif what == "session":
                s = smtplib.SMTP("127.0.0.1", port, local_hostname="busy.example", source_address=(source, 0), timeout=30)
                s.ehlo("busy.example")
                s.mail("a@busy.example")
                print("RCPT", s.rcpt("bob@example.test")[0], s.rcpt("alice@example.test")[0], s.rcpt("c@example.test"))
                s.rset()
                s.mail("a@busy.example")
                s.rset()
                try:
                    print("MAIL3", s.mail("a@busy.example"))
                except smtplib.SMTPServerDisconnected as e:
                    print("DISCONNECTED", e)
            elif what == "errors":
                s = smtplib.SMTP("127.0.0.1", port, local_hostname="bad.example", source_address=(source, 0), timeout=30)
                for i in range(3):
                    print("ERR", s.docmd("FROB"))
                try:
                    print("NEXT", s.docmd("NOOP"))
                except smtplib.SMTPServerDisconnected as e:
                    print("DISCONNECTED", e)
            """;

    private static Processes.Result limits(String what) {
        return Processes.python(
                RUN, LIMITS_CLIENT, Integer.toString(postern.port("limits")), SmtpRelayIT.uniqueLoopback(), what);
    }

    @Test
    void aThirdConcurrentConnectionIsRefusedUntilOneCloses() {
        Processes.Result r = limits("concurrent");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout())
                .contains("GREETINGS 220 mx.postern.test ESMTP Postern | 220 mx.postern.test ESMTP Postern | 421 4.7.0"
                        + " mx.postern.test Error: too many connections from 127.")
                .contains("AFTER-CLOSE 220 mx.postern.test ESMTP Postern");
    }

    @Test
    void theFifthConnectionInAMinuteIsRefused() {
        Processes.Result r = limits("rate");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout())
                .contains("CONNECT 4 220 ")
                .contains("CONNECT 5 421 4.7.0 mx.postern.test Error: too many connections per minute from 127.");
    }

    @Test
    void recipientsAndMessagesPerSessionAreLimited() {
        Processes.Result r = limits("session");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout())
                .contains("RCPT 250 250 (452, b'4.5.3 Error: too many recipients')")
                .contains("MAIL3 (421, b'4.7.0 mx.postern.test Error: too many messages in one connection')");
    }

    @Test
    void tooManyErrorsEndTheSession() {
        Processes.Result r = limits("errors");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).contains("ERR (500, b'5.5.2 Error: command not recognized')");
        assertThat(r.stdout())
                .containsPattern("NEXT \\(421, b'4.7.0 mx.postern.test Error: too many errors'\\)|" + "DISCONNECTED");
        Await.until("no session left", Duration.ofSeconds(10), () -> postern.sessions() == 0);
    }
}
