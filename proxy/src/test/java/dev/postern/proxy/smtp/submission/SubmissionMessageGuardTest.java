package dev.postern.proxy.smtp.submission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Protocol;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.Conversation;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.SmtpTestClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A relayed submission session keeps the edge's end-of-data rule: the backend never sees a bare LF or CR in a
 * message, nor a message end the client did not send; and a backend lost while the client waits gets it a 421.
 */
class SubmissionMessageGuardTest {
    @TempDir
    static Path dir;

    /** What the fake read between its 354 and the end of data (or the end of the stream), per message. */
    private static final List<String> messages = new CopyOnWriteArrayList<>();

    private static volatile boolean dropMidMessage;
    private static FakeLineBackend backend;
    private static PosternHarness postern;

    @BeforeAll
    static void start() {
        backend = FakeLineBackend.builder()
                .greeting("220 fake ESMTP")
                .on("EHLO", "250-fake", "250-PIPELINING", "250-CHUNKING", "250 AUTH PLAIN")
                .on("AUTH", "235 2.7.0 ok")
                .on("MAIL", "250 2.1.0 ok")
                .on("RCPT", "250 2.1.5 ok")
                .on("DATA", SubmissionMessageGuardTest::data)
                .on("BDAT", SubmissionMessageGuardTest::bdat)
                .on("QUIT", (c, line) -> c.sendAndClose("221 bye"))
                .otherwise("500 what")
                .start();
        String yaml =
                """
                listeners:
                  - {name: reject, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: fake}
                  - {name: normalize, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: fake,
                     smtp: {data: {bare-lf: normalize}}}
                pools:
                  - {name: fake, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(FreePorts.next(), FreePorts.next(), backend.port());
        postern = PosternHarness.start(yaml, dir);
        Await.until("the probe learned the pool's keywords", Duration.ofSeconds(10), () -> postern.postern()
                .services()
                .capabilities()
                .get("fake", Protocol.SMTP)
                .isPresent());
    }

    private static void data(Conversation c, String line) throws IOException {
        c.send("354 go ahead");
        InputStream in = c.input();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (int b; (b = in.read()) >= 0; ) {
            got.write(b);
            String s = got.toString(StandardCharsets.ISO_8859_1);
            if (dropMidMessage && s.contains("drop here")) {
                messages.add(s);
                c.close();
                return;
            }
            if (s.endsWith("\r\n.\r\n") || s.equals(".\r\n")) {
                messages.add(s);
                c.send("250 2.0.0 Ok: queued as FAKE");
                return;
            }
        }
        messages.add(got.toString(StandardCharsets.ISO_8859_1));
    }

    private static void bdat(Conversation c, String line) throws IOException {
        int size = Integer.parseInt(line.split(" ")[1]);
        messages.add(new String(c.raw(size), StandardCharsets.ISO_8859_1));
        c.send("250 2.0.0 chunk ok");
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
        backend.close();
    }

    @BeforeEach
    void reset() {
        messages.clear();
        dropMidMessage = false;
    }

    @AfterEach
    void everySessionEnds() {
        postern.awaitNoSessions();
    }

    private static SmtpTestClient loggedIn(String listener) {
        SmtpTestClient c = SmtpTestClient.connect(postern.port(listener));
        assertThat(c.replyLine()).startsWith("220 ");
        c.command("EHLO client.example");
        String plain = Base64.getEncoder().encodeToString("\0alice\0pw".getBytes(StandardCharsets.UTF_8));
        assertThat(c.command("AUTH PLAIN " + plain)).containsExactly("235 2.7.0 Authentication successful");
        assertThat(c.command("MAIL FROM:<alice@example.test>")).containsExactly("250 2.1.0 ok");
        assertThat(c.command("RCPT TO:<bob@example.test>")).containsExactly("250 2.1.5 ok");
        return c;
    }

    @Test
    void aBareLfEndOfDataIsRefusedAndNeverReachesTheBackend() {
        try (SmtpTestClient c = loggedIn("reject")) {
            assertThat(c.command("DATA")).containsExactly("354 go ahead");
            c.write("Subject: one\r\n\r\nbody\n.\nMAIL FROM:<evil@example.test>\r\n");

            assertThat(c.reply().get(0)).matches("521 5\\.5\\.2 .* Error: bare <LF> received");
            assertThat(c.closedByServer()).isTrue();
        }
        Await.until("the backend saw its connection end", Duration.ofSeconds(10), () -> messages.size() == 1);
        assertThat(messages.get(0))
                .doesNotContain("\n.\n")
                .doesNotContain("evil")
                .doesNotEndWith("\r\n.\r\n");
    }

    @Test
    void aBareCrInAMessageIsRefusedToo() {
        try (SmtpTestClient c = loggedIn("reject")) {
            assertThat(c.command("DATA")).containsExactly("354 go ahead");
            c.write("Subject: one\r\n\r\nbody\r.\rmore\r\n.\r\n");

            assertThat(c.reply().get(0)).matches("521 5\\.5\\.2 .* Error: bare <CR> received");
        }
        Await.until("the backend saw its connection end", Duration.ofSeconds(10), () -> messages.size() == 1);
        assertThat(messages.get(0)).doesNotContain("\r.\r").doesNotEndWith("\r\n.\r\n");
    }

    @Test
    void normalizeModeMakesBareLineEndsCrlfAndStuffsTheDotSoTheMessageEndsWhereTheClientEndedIt() {
        try (SmtpTestClient c = loggedIn("normalize")) {
            assertThat(c.command("DATA")).containsExactly("354 go ahead");
            c.write("Subject: one\r\n\r\nbody\n.\nstill body\r\n.\r\n");

            assertThat(c.reply()).containsExactly("250 2.0.0 Ok: queued as FAKE");
            assertThat(c.command("QUIT")).containsExactly("221 bye");
        }
        assertThat(messages).containsExactly("Subject: one\r\n\r\nbody\r\n..\r\nstill body\r\n.\r\n");
    }

    @Test
    void commandsAndDotStuffingPassAsTheClientSentThem() {
        try (SmtpTestClient c = loggedIn("reject")) {
            assertThat(c.command("DATA")).containsExactly("354 go ahead");
            c.write("Subject: two\r\n\r\n..stuffed\r\n.\r\n");
            assertThat(c.reply()).containsExactly("250 2.0.0 Ok: queued as FAKE");
            assertThat(c.command("NOOP")).containsExactly("500 what");
            assertThat(c.command("QUIT")).containsExactly("221 bye");
        }
        assertThat(messages).containsExactly("Subject: two\r\n\r\n..stuffed\r\n.\r\n");
    }

    @Test
    void aBdatChunkIsPassedByItsLength() {
        try (SmtpTestClient c = loggedIn("normalize")) {
            c.write("BDAT 9 LAST\r\nab\n.\ncd\r\n");
            assertThat(c.reply()).containsExactly("250 2.0.0 chunk ok");
            assertThat(c.command("QUIT")).containsExactly("221 bye");
        }
        assertThat(messages).containsExactly("ab\n.\ncd\r\n");
    }

    @Test
    void aBackendLostMidMessageGivesTheClient421AndNever250() {
        dropMidMessage = true;
        try (SmtpTestClient c = loggedIn("reject")) {
            assertThat(c.command("DATA")).containsExactly("354 go ahead");
            c.write("Subject: three\r\n\r\ndrop here\r\n");

            assertThat(c.reply().get(0)).matches("421 4\\.4\\.2 .* Error: connection to the mail server lost");
            assertThat(c.closedByServer()).isTrue();
        }
    }
}
