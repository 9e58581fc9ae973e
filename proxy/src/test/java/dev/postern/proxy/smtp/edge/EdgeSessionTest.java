package dev.postern.proxy.smtp.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.testkit.Await;
import dev.postern.testkit.Pace;
import dev.postern.testkit.SmtpTestClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay session over real sockets against a scripted backend: the dialogue Postern keeps, the transaction it
 * hands over (MAIL replayed at the first RCPT, the backend's replies as answers), the message bytes as the backend
 * gets them, several transactions and pools per connection, and what happens when the backend refuses or goes away.
 */
class EdgeSessionTest {
    @TempDir
    static Path dir;

    static FakeRelayBackend backend;
    static FakeRelayBackend other;
    static RelayTestServer server;
    static final FakeSpf spf = new FakeSpf();

    /** SPF answers as the test says, and records what it was asked. */
    static final class FakeSpf implements SenderPolicy {
        volatile Outcome outcome = new Outcome(Result.PASS, "ok", "Received-SPF: pass (fake) client-ip=127.0.0.1;");
        final List<String> asked = new CopyOnWriteArrayList<>();

        @Override
        public CompletableFuture<Outcome> check(java.net.InetAddress client, String helo, String sender) {
            asked.add(client.getHostAddress() + " " + helo + " " + sender);
            return CompletableFuture.completedFuture(outcome);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        backend = new FakeRelayBackend();
        other = new FakeRelayBackend(true);
        String relay = "role: relay, hostname: mx.test, local-domains: [example.test]";
        String yaml =
                """
                listeners:
                  - {name: plain, protocol: smtp, bind: "127.0.0.1:0", pool: fake, smtp: {%1$s}}
                  - {name: normalize, protocol: smtp, bind: "127.0.0.1:0", pool: fake,
                     smtp: {%1$s, data: {bare-lf: normalize}}}
                  - {name: small, protocol: smtp, bind: "127.0.0.1:0", pool: fake, smtp: {%1$s, max-message-size: 1KiB}}
                  - {name: annotate, protocol: smtp, bind: "127.0.0.1:0", pool: fake,
                     smtp: {%1$s, spf: {policy: annotate}}}
                  - {name: spf-reject, protocol: smtp, bind: "127.0.0.1:0", pool: fake,
                     smtp: {%1$s, spf: {policy: reject}}}
                  - {name: trusted, protocol: smtp, bind: "127.0.0.1:0", pool: fake,
                     smtp: {%1$s, trusted-networks: [127.0.0.0/8], spf: {policy: reject}}}
                  - {name: notls, protocol: smtp, bind: "127.0.0.1:0", pool: fake, smtp: {%1$s, require-tls: true}}
                  - {name: down, protocol: smtp, bind: "127.0.0.1:0", pool: down, smtp: {%1$s}}
                  - {name: quick, protocol: smtp, bind: "127.0.0.1:0", pool: fake, timeouts: {pre-auth: 1s},
                     smtp: {%1$s}}
                pools:
                  - {name: fake, backends: [{address: "127.0.0.1:%2$d", identity: xclient}]}
                  - {name: other, backends: [{address: "127.0.0.1:%3$d", identity: proxy-v2}]}
                  - {name: down, backends: [{address: "127.0.0.1:%4$d"}]}
                routes:
                  domains: {other.test: other}
                """
                        .formatted(relay, backend.port(), other.port(), dev.postern.proxy.testing.FreePorts.closed());
        server = RelayTestServer.start(yaml, dir, ClientReputation.NONE, spf);
        server.awaitKeywords("fake");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        backend.close();
        other.close();
    }

    @BeforeEach
    void reset() {
        backend.connections.clear();
        other.connections.clear();
        backend.rcptReply = arg -> "250 2.1.5 fake ok";
        backend.mailReply = arg -> "250 2.1.0 fake ok";
        backend.endReply = "250 2.0.0 Ok: queued as FAKE";
        backend.closeAfterBytes = -1;
        spf.asked.clear();
    }

    @AfterEach
    void everySessionEnds() {
        server.awaitNoSessions();
    }

    static SmtpTestClient connect(String listener) {
        SmtpTestClient c = SmtpTestClient.connect(server.port(listener));
        assertThat(c.replyLine()).isEqualTo("220 mx.test ESMTP Postern");
        return c;
    }

    static SmtpTestClient ehlo(String listener) {
        SmtpTestClient c = connect(listener);
        c.command("EHLO client.example");
        return c;
    }

    // ---- the dialogue Postern keeps

    @Test
    void theTimeoutIsPerCommandSoNoopsKeepASessionOpenLongerThanIt() throws InterruptedException {
        try (SmtpTestClient c = connect("quick")) {
            long start = System.nanoTime();
            Pace pace = Pace.every(Duration.ofMillis(400)); // the client's: 2.4 s of NOOPs, timeout 1 s
            for (int i = 0; i < 6; i++) {
                pace.awaitTick();
                assertThat(c.command("NOOP")).containsExactly("250 2.0.0 Ok");
            }
            assertThat(System.nanoTime() - start).isGreaterThan(2_000_000_000L);

            assertThat(c.reply()).containsExactly("421 4.4.2 mx.test Error: timeout exceeded");
        }
    }

    @Test
    void aHeloNameThatIsNotUtf8Is501() {
        try (SmtpTestClient c = connect("plain")) {
            c.writeBytes(
                    new byte[] {'H', 'E', 'L', 'O', ' ', 'a', (byte) 0xff, (byte) 0xc3, '.', 'e', 'x', '\r', '\n'});
            assertThat(c.reply()).containsExactly("501 5.5.4 Syntax: HELO hostname");
            c.writeBytes(new byte[] {'E', 'H', 'L', 'O', ' ', (byte) 0xc3, (byte) 0x28, '\r', '\n'});
            assertThat(c.reply()).containsExactly("501 5.5.4 Syntax: EHLO hostname");
            assertThat(c.command("HELO client.example")).containsExactly("250 mx.test");
        }
    }

    @Test
    void ehloOffersPosternsOwnExtensionsAndThePoolsButNeverAuthOrXclient() {
        try (SmtpTestClient c = connect("plain")) {
            assertThat(c.command("EHLO client.example"))
                    .containsExactly(
                            "250-mx.test",
                            "250-PIPELINING",
                            "250-SIZE 52428800",
                            "250-ENHANCEDSTATUSCODES",
                            "250-8BITMIME",
                            "250-DSN",
                            "250 CHUNKING");
            assertThat(c.command("HELO client.example")).containsExactly("250 mx.test");
            assertThat(c.command("AUTH PLAIN AGJvYgBwdw=="))
                    .containsExactly("502 5.5.1 Error: command not implemented");
            assertThat(c.command("XCLIENT ADDR=1.2.3.4")).containsExactly("500 5.5.2 Error: command not recognized");
            assertThat(c.command("VRFY bob"))
                    .containsExactly("252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
            assertThat(c.command("NOOP")).containsExactly("250 2.0.0 Ok");
            assertThat(c.command("QUIT")).containsExactly("221 2.0.0 Bye");
        }
        assertThat(backend.connections).as("nothing reached the backend").isEmpty();
    }

    @Test
    void aTransactionIsReplayedOnTheBackendWithTheClientsIdentity() {
        try (SmtpTestClient c = ehlo("plain")) {
            assertThat(c.command("MAIL FROM:<alice@sender.example> SIZE=100 BODY=8BITMIME"))
                    .containsExactly("250 2.1.0 Ok");
            assertThat(backend.connections)
                    .as("MAIL alone does not pick a backend")
                    .isEmpty();
            assertThat(c.command("RCPT TO:<bob@Example.TEST> NOTIFY=SUCCESS,FAILURE"))
                    .containsExactly("250 2.1.5 fake ok");
            assertThat(c.command("DATA")).containsExactly("354 End data with <CR><LF>.<CR><LF>");
            c.write("Subject: hi\r\n\r\n..a stuffed line\r\nbody\r\n.\r\n");
            assertThat(c.reply()).containsExactly("250 2.0.0 Ok: queued as FAKE");
            assertThat(c.command("QUIT")).containsExactly("221 2.0.0 Bye");
        }
        FakeRelayBackend.Connection b = backend.connections.get(0);
        Await.until("the backend saw QUIT", Duration.ofSeconds(5), () -> b.commands.contains("QUIT"));
        assertThat(b.commands)
                .containsExactly(
                        "EHLO mx.test",
                        "XCLIENT ADDR=127.0.0.1 PORT=" + xclientPort(b)
                                + " NAME=[UNAVAILABLE] HELO=client.example PROTO=ESMTP",
                        "EHLO client.example",
                        "MAIL FROM:<alice@sender.example> SIZE=100 BODY=8BITMIME",
                        "RCPT TO:<bob@Example.TEST> NOTIFY=SUCCESS,FAILURE",
                        "DATA",
                        "QUIT");
        assertThat(b.message(0)).isEqualTo("Subject: hi\r\n\r\n..a stuffed line\r\nbody\r\n");
    }

    private static String xclientPort(FakeRelayBackend.Connection b) {
        String x = b.commands.stream()
                .filter(l -> l.startsWith("XCLIENT"))
                .findFirst()
                .orElseThrow();
        return x.replaceAll(".* PORT=([0-9]+).*", "$1");
    }

    @Test
    void pipelinedCommandsAreAnsweredInOrder() {
        try (SmtpTestClient c = connect("plain")) {
            c.write("EHLO pipe.example\r\nMAIL FROM:<a@pipe.example>\r\nRCPT TO:<x@example.test>\r\n"
                    + "RCPT TO:<y@outside.test>\r\nRCPT TO:<z@example.test>\r\nDATA\r\n");
            assertThat(c.reply()).startsWith("250-mx.test");
            assertThat(c.replyLine()).isEqualTo("250 2.1.0 Ok");
            assertThat(c.replyLine()).isEqualTo("250 2.1.5 fake ok");
            assertThat(c.replyLine()).isEqualTo("554 5.7.1 <y@outside.test>: Relay access denied");
            assertThat(c.replyLine()).isEqualTo("250 2.1.5 fake ok");
            assertThat(c.replyLine()).startsWith("354 ");
            c.write("one\r\n.\r\nRSET\r\nQUIT\r\n");
            assertThat(c.replyLine()).isEqualTo("250 2.0.0 Ok: queued as FAKE");
            assertThat(c.replyLine()).isEqualTo("250 2.0.0 Ok");
            assertThat(c.replyLine()).isEqualTo("221 2.0.0 Bye");
        }
        assertThat(backend.allMessages()).containsExactly("one\r\n");
    }

    @Test
    void clientThatHalfClosesAfterPipeliningEverythingGetsEveryAnswer() {
        try (SmtpTestClient c = connect("plain")) {
            c.write("EHLO pipe.example\r\nMAIL FROM:<a@pipe.example>\r\nRCPT TO:<x@example.test>\r\nDATA\r\n"
                    + "body\r\n.\r\nQUIT\r\n");
            c.shutdownOutput();
            assertThat(c.reply()).startsWith("250-mx.test");
            assertThat(c.replyLine()).isEqualTo("250 2.1.0 Ok");
            assertThat(c.replyLine()).isEqualTo("250 2.1.5 fake ok");
            assertThat(c.replyLine()).startsWith("354 ");
            assertThat(c.replyLine()).isEqualTo("250 2.0.0 Ok: queued as FAKE");
            assertThat(c.replyLine()).isEqualTo("221 2.0.0 Bye");
            assertThat(c.readLine()).isNull();
        }
        assertThat(backend.allMessages()).containsExactly("body\r\n");
    }

    @Test
    void severalTransactionsShareOneBackendConnection() {
        try (SmtpTestClient c = ehlo("plain")) {
            for (int i = 0; i < 3; i++) {
                c.command("MAIL FROM:<a@sender.example>");
                c.command("RCPT TO:<bob@example.test>");
                c.command("DATA");
                c.write("message " + i + "\r\n.\r\n");
                assertThat(c.replyLine()).isEqualTo("250 2.0.0 Ok: queued as FAKE");
            }
            c.command("QUIT");
        }
        assertThat(backend.connections).hasSize(1);
        assertThat(backend.allMessages()).containsExactly("message 0\r\n", "message 1\r\n", "message 2\r\n");
    }

    @Test
    void recipientsOfAnotherPoolWaitForTheirOwnTransaction() {
        try (SmtpTestClient c = ehlo("plain")) {
            c.command("MAIL FROM:<a@sender.example>");
            assertThat(c.command("RCPT TO:<bob@example.test>")).containsExactly("250 2.1.5 fake ok");
            assertThat(c.command("RCPT TO:<carol@other.test>"))
                    .containsExactly("452 4.5.3 Error: recipient of another destination; send it in a new transaction");
            c.command("DATA");
            c.write("for bob\r\n.\r\n");
            assertThat(c.replyLine()).startsWith("250 ");
            // the sender's retry: a transaction of its own, on the other pool's backend (with a PROXY header)
            c.command("MAIL FROM:<a@sender.example>");
            assertThat(c.command("RCPT TO:<carol@other.test>")).containsExactly("250 2.1.5 fake ok");
            c.command("DATA");
            c.write("for carol\r\n.\r\n");
            assertThat(c.replyLine()).startsWith("250 ");
            c.command("QUIT");
        }
        assertThat(backend.allMessages()).containsExactly("for bob\r\n");
        assertThat(other.allMessages()).containsExactly("for carol\r\n");
        assertThat(other.connections.get(0).commands).startsWith("EHLO client.example");
    }

    @Test
    void theBackendsRefusalsAreTheAnswers() {
        backend.mailReply = arg -> arg.contains("blocked") ? "550 5.7.1 fake: sender blocked" : "250 2.1.0 fake ok";
        backend.rcptReply = arg -> arg.contains("nobody") ? "550 5.1.1 fake: no such user" : "250 2.1.5 fake ok";
        backend.endReply = "554 5.7.1 fake: message refused by the content filter";
        try (SmtpTestClient c = ehlo("plain")) {
            c.command("MAIL FROM:<blocked@sender.example>");
            // Postern accepted MAIL; the backend's refusal of it answers the first RCPT
            assertThat(c.command("RCPT TO:<bob@example.test>")).containsExactly("550 5.7.1 fake: sender blocked");
            c.command("RSET");
            c.command("MAIL FROM:<fine@sender.example>");
            assertThat(c.command("RCPT TO:<nobody@example.test>")).containsExactly("550 5.1.1 fake: no such user");
            assertThat(c.command("DATA")).containsExactly("554 5.5.1 Error: no valid recipients");
            assertThat(c.command("RCPT TO:<bob@example.test>")).containsExactly("250 2.1.5 fake ok");
            c.command("DATA");
            c.write("spam\r\n.\r\n");
            assertThat(c.replyLine()).isEqualTo("554 5.7.1 fake: message refused by the content filter");
            c.command("QUIT");
        }
    }

    @Test
    void anUnreachableBackendIsATemporaryFailure() {
        try (SmtpTestClient c = ehlo("down")) {
            c.command("MAIL FROM:<a@sender.example>");
            assertThat(c.command("RCPT TO:<bob@example.test>"))
                    .containsExactly("451 4.4.1 Error: mail server unavailable; try again later");
            assertThat(c.command("QUIT")).containsExactly("221 2.0.0 Bye");
        }
    }

    @Test
    void aBackendLostInTheMiddleOfAMessageIsATemporaryFailureAtItsEnd() {
        backend.closeAfterBytes = 10;
        try (SmtpTestClient c = ehlo("plain")) {
            c.command("MAIL FROM:<a@sender.example>");
            c.command("RCPT TO:<bob@example.test>");
            c.command("DATA");
            c.write("0123456789".repeat(1000) + "\r\n");
            c.write("more\r\n.\r\n");
            assertThat(c.replyLine()).isEqualTo("451 4.4.2 Error: connection to the mail server lost; try again later");
            // the session goes on: a new transaction gets a new backend connection
            backend.closeAfterBytes = -1;
            c.command("MAIL FROM:<a@sender.example>");
            assertThat(c.command("RCPT TO:<bob@example.test>")).containsExactly("250 2.1.5 fake ok");
            c.command("DATA");
            c.write("again\r\n.\r\n");
            assertThat(c.replyLine()).startsWith("250 ");
            c.command("QUIT");
        }
        assertThat(backend.allMessages()).containsExactly("again\r\n");
    }

    // ---- message bytes

    @Test
    void aMessageOverTheSizeLimitIsRefusedAndNeverCompletedOnTheBackend() {
        try (SmtpTestClient c = ehlo("small")) {
            assertThat(c.command("MAIL FROM:<a@sender.example> SIZE=2000"))
                    .containsExactly("552 5.3.4 Error: message size exceeds fixed limit");
            c.command("MAIL FROM:<a@sender.example>");
            c.command("RCPT TO:<bob@example.test>");
            c.command("DATA");
            c.write(("x".repeat(99) + "\r\n").repeat(20) + ".\r\n");
            assertThat(c.replyLine()).isEqualTo("552 5.3.4 Error: message size exceeds fixed limit");
            c.command("QUIT");
        }
        assertThat(backend.allMessages())
                .as("the backend never saw the end of the message")
                .isEmpty();
    }

    @Test
    void bareLineFeedsAreRefusedAndTheConnectionClosed() {
        try (SmtpTestClient c = ehlo("plain")) {
            c.command("MAIL FROM:<a@sender.example>");
            c.command("RCPT TO:<bob@example.test>");
            c.command("DATA");
            c.write("line one\nline two\r\n.\r\n");
            assertThat(c.replyLine()).isEqualTo("521 5.5.2 mx.test Error: bare <LF> received");
            assertThat(c.closedByServer()).isTrue();
        }
        Await.until("the backend connection closed", Duration.ofSeconds(5), () -> backend.connections.get(0).closed);
        assertThat(backend.allMessages()).isEmpty();
    }

    @Test
    void normalizedBareLineEndsKeepTheContentAndTheEndOfData() {
        try (SmtpTestClient c = ehlo("normalize")) {
            c.command("MAIL FROM:<a@sender.example>");
            c.command("RCPT TO:<bob@example.test>");
            c.command("DATA");
            c.write("one\ntwo\r.three\n.\r\nMAIL FROM:<evil@x>\r\n.\r\n");
            assertThat(c.replyLine()).startsWith("250 ");
            c.command("QUIT");
        }
        assertThat(backend.allMessages()).containsExactly("one\r\ntwo\r\n..three\r\n..\r\nMAIL FROM:<evil@x>\r\n");
    }

    @Test
    void bdatChunksPassThroughExactly() {
        try (SmtpTestClient c = ehlo("plain")) {
            c.command("MAIL FROM:<a@sender.example>");
            c.command("RCPT TO:<bob@example.test>");
            String first = "Subject: chunked\r\n\r\n.a dot that is content\r\n";
            c.write("BDAT " + first.length() + "\r\n" + first);
            assertThat(c.replyLine()).isEqualTo("250 2.0.0 " + first.length() + " octets received");
            String last = "end\r\n";
            c.write("BDAT " + last.length() + " LAST\r\n" + last);
            assertThat(c.replyLine()).isEqualTo("250 2.0.0 Ok: queued as FAKE");
            // a BDAT out of a transaction: its chunk is read and dropped, never taken for commands
            c.write("BDAT 6 LAST\r\nQUIT\r\n");
            assertThat(c.replyLine()).isEqualTo("503 5.5.1 Error: need MAIL command");
            assertThat(c.command("NOOP")).containsExactly("250 2.0.0 Ok");
            c.command("QUIT");
        }
        assertThat(backend.allMessages()).containsExactly("Subject: chunked\r\n\r\n.a dot that is content\r\nend\r\n");
    }

    @Test
    void aBdatWithABareLineFeedIsRefused() {
        try (SmtpTestClient c = ehlo("plain")) {
            c.command("MAIL FROM:<a@sender.example>");
            c.command("RCPT TO:<bob@example.test>");
            c.write("BDAT 9 LAST\r\nbare\nlf\r\n");
            assertThat(c.replyLine()).isEqualTo("521 5.5.2 mx.test Error: bare <LF> received");
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(backend.allMessages()).isEmpty();
    }

    // ---- MAIL and RCPT checks

    @Test
    void commandsOutOfOrderAndBadSyntaxGetTheirErrors() {
        try (SmtpTestClient c = connect("plain")) {
            assertThat(c.command("MAIL FROM:<a@b.example>")).containsExactly("503 5.5.1 Error: send HELO/EHLO first");
            c.command("EHLO client.example");
            assertThat(c.command("RCPT TO:<bob@example.test>")).containsExactly("503 5.5.1 Error: need MAIL command");
            assertThat(c.command("MAIL FROM:a@b.example")).containsExactly("501 5.1.7 Bad sender address syntax");
            assertThat(c.command("MAIL TO:<a@b.example>")).containsExactly("501 5.5.4 Syntax: MAIL FROM:<address>");
            assertThat(c.command("MAIL FROM:<a@b.example> AUTH=<>"))
                    .containsExactly("555 5.5.4 Unsupported option: AUTH=<>");
            assertThat(c.command("MAIL FROM:<>")).containsExactly("250 2.1.0 Ok");
            assertThat(c.command("MAIL FROM:<a@b.example>")).containsExactly("503 5.5.1 Error: nested MAIL command");
            assertThat(c.command("RCPT TO:<>")).containsExactly("501 5.1.3 Bad recipient address syntax");
            assertThat(c.command("DATA")).containsExactly("554 5.5.1 Error: no valid recipients");
            assertThat(c.command("FOO")).containsExactly("500 5.5.2 Error: command not recognized");
            c.command("QUIT");
        }
    }

    @Test
    void aWebClientIsDroppedAtOnce() {
        try (SmtpTestClient c = connect("plain")) {
            assertThat(c.command("GET / HTTP/1.1")).containsExactly("521 5.5.1 mx.test Error: protocol error");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void requireTlsRefusesMailBeforeStartTls() {
        try (SmtpTestClient c = ehlo("notls")) {
            assertThat(c.command("MAIL FROM:<a@b.example>"))
                    .containsExactly("530 5.7.0 Must issue a STARTTLS command first");
            c.command("QUIT");
        }
    }

    @Test
    void spfAnnotateAddsTheReceivedSpfHeaderFirst() {
        try (SmtpTestClient c = ehlo("annotate")) {
            c.command("MAIL FROM:<a@sender.example>");
            c.command("RCPT TO:<bob@example.test>");
            c.command("DATA");
            c.write("Subject: s\r\n\r\nbody\r\n.\r\n");
            assertThat(c.replyLine()).startsWith("250 ");
            c.command("QUIT");
        }
        assertThat(spf.asked).containsExactly("127.0.0.1 client.example a@sender.example");
        assertThat(backend.allMessages())
                .containsExactly("Received-SPF: pass (fake) client-ip=127.0.0.1;\r\nSubject: s\r\n\r\nbody\r\n");
    }

    @Test
    void spfRejectRefusesAFailingSenderOnlyAndTrustedClientsAreNotChecked() {
        spf.outcome = new SenderPolicy.Outcome(SenderPolicy.Result.FAIL, "not allowed", "Received-SPF: fail");
        try (SmtpTestClient c = ehlo("spf-reject")) {
            assertThat(c.command("MAIL FROM:<a@forged.example>"))
                    .containsExactly("550 5.7.23 <a@forged.example>: Sender address rejected: SPF fail (not allowed)");
            spf.outcome = new SenderPolicy.Outcome(SenderPolicy.Result.SOFTFAIL, "maybe", null);
            assertThat(c.command("MAIL FROM:<a@forged.example>")).containsExactly("250 2.1.0 Ok");
            c.command("QUIT");
        }
        spf.outcome = new SenderPolicy.Outcome(SenderPolicy.Result.FAIL, "not allowed", "Received-SPF: fail");
        spf.asked.clear();
        try (SmtpTestClient c = ehlo("trusted")) {
            assertThat(c.command("MAIL FROM:<a@forged.example>")).containsExactly("250 2.1.0 Ok");
            c.command("QUIT");
        }
        assertThat(spf.asked).isEmpty();
        spf.outcome = new SenderPolicy.Outcome(
                SenderPolicy.Result.PASS, "ok", "Received-SPF: pass (fake) client-ip=127.0.0.1;");
    }

    @Test
    void aTrustedClientRelaysAnywhereThroughTheListenersPool() {
        try (SmtpTestClient c = ehlo("trusted")) {
            c.command("MAIL FROM:<app@inside.example>");
            assertThat(c.command("RCPT TO:<someone@outside.test>")).containsExactly("250 2.1.5 fake ok");
            c.command("QUIT");
        }
        assertThat(backend.allCommands()).contains("RCPT TO:<someone@outside.test>");
    }

    @Test
    void nothingIsDeliveredWhenTheClientLeavesMidMessage() {
        try (SmtpTestClient c = ehlo("plain")) {
            c.command("MAIL FROM:<a@sender.example>");
            c.command("RCPT TO:<bob@example.test>");
            c.command("DATA");
            c.write("half a message\r\n");
        }
        Await.until(
                "the backend connection closed",
                Duration.ofSeconds(5),
                () -> !backend.connections.isEmpty() && backend.connections.get(0).closed);
        assertThat(backend.allMessages()).isEmpty();
    }
}
