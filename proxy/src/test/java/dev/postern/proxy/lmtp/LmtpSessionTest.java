package dev.postern.proxy.lmtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.SmtpTestClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LMTP through Postern to scripted LMTP backends over real sockets: recipients routed to their own backends (routes,
 * a users file's pool, the auth chain's refusal), one backend transaction per backend, one reply per recipient after
 * the end of data in RCPT order, and what a recipient hears when its backend refuses or goes away mid-message.
 */
class LmtpSessionTest {
    @TempDir
    static Path dir;

    static FakeLmtpBackend a;
    static FakeLmtpBackend b;
    static PosternHarness postern;

    @BeforeAll
    static void start() throws Exception {
        a = new FakeLmtpBackend(false);
        b = new FakeLmtpBackend(true);
        SecureRandom random = new SecureRandom();
        StringBuilder users = new StringBuilder();
        for (String[] u : new String[][] {{"alice@example.test", "pool=a"}, {"bob@example.test", "pool=b"}}) {
            byte[] salt = new byte[16];
            random.nextBytes(salt);
            users.append(u[0])
                    .append(':')
                    .append(OpenBSDBCrypt.generate("2y", "unused".toCharArray(), salt, 4))
                    .append(':')
                    .append(u[1])
                    .append('\n');
        }
        Files.writeString(dir.resolve("users.txt"), users.toString(), StandardCharsets.UTF_8);
        String yaml =
                """
                auth:
                  providers:
                    - {name: local, type: static, file: users.txt}
                    - {name: remote, type: http, url: "http://127.0.0.1:%3$d/auth", timeout: 1s}
                  cache: {size: 0}
                listeners:
                  - {name: routed, protocol: lmtp, bind: "127.0.0.1:%4$d", pool: a}
                  - {name: users, protocol: lmtp, bind: "127.0.0.1:%5$d", pool: a, auth: [local]}
                  - {name: down, protocol: lmtp, bind: "127.0.0.1:%6$d", pool: a, auth: [remote]}
                  - {name: small, protocol: lmtp, bind: "127.0.0.1:%7$d", pool: a, smtp: {max-message-size: 1KiB}}
                pools:
                  - {name: a, backends: [{address: "127.0.0.1:%1$d", identity: xclient}]}
                  - {name: b, backends: [{address: "127.0.0.1:%2$d", identity: proxy-v2}]}
                routes:
                  users: {bob@example.test: b}
                """
                        .formatted(
                                a.port(),
                                b.port(),
                                FreePorts.closed(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next());
        postern = PosternHarness.start(yaml, dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
        a.close();
        b.close();
    }

    @BeforeEach
    void reset() {
        a.clear();
        b.clear();
        a.keywords = List.of("PIPELINING", "ENHANCEDSTATUSCODES", "XCLIENT ADDR PORT HELO PROTO");
        b.keywords = List.of("PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME");
    }

    private static SmtpTestClient connect(String listener) {
        SmtpTestClient c = SmtpTestClient.connect(postern.port(listener));
        assertThat(c.replyLine()).startsWith("220 ").contains("LMTP");
        assertThat(c.command("LHLO mta.test")).contains("250-PIPELINING", "250-ENHANCEDSTATUSCODES");
        return c;
    }

    /** After DATA's 354: the message, the end of data, then one reply per accepted recipient. */
    private static List<String> message(SmtpTestClient c, int recipients, String body) {
        c.write("Subject: test\r\n\r\n" + body + "\r\n.\r\n");
        List<String> replies = new ArrayList<>();
        for (int i = 0; i < recipients; i++) {
            replies.add(c.replyLine());
        }
        return replies;
    }

    private static void quit(SmtpTestClient c) {
        assertThat(c.command("QUIT")).containsExactly("221 2.0.0 Bye");
        c.close();
        Await.until("backends idle", Duration.ofSeconds(10), () -> a.idle() && b.idle());
        postern.awaitNoSessions();
    }

    @Test
    void recipientsOfTwoBackendsGetOneReplyEachInRcptOrder() {
        b.keywords = List.of("PIPELINING", "SIZE 100000", "8BITMIME");
        SmtpTestClient c = connect("routed");
        assertThat(c.command("MAIL FROM:<sender@remote.test> SIZE=100 BODY=8BITMIME"))
                .containsExactly("250 2.1.0 Ok");
        assertThat(c.command("RCPT TO:<alice@example.test>")).containsExactly("250 2.1.5 fake ok");
        assertThat(c.command("RCPT TO:<bob@example.test>")).containsExactly("250 2.1.5 fake ok");
        assertThat(c.command("RCPT TO:<carol@example.test>")).containsExactly("250 2.1.5 fake ok");
        assertThat(c.command("DATA")).singleElement().asString().startsWith("354 ");
        assertThat(message(c, 3, "hello"))
                .containsExactly(
                        "250 2.0.0 <alice@example.test> fake saved",
                        "250 2.0.0 <bob@example.test> fake saved",
                        "250 2.0.0 <carol@example.test> fake saved");
        quit(c);
        // one transaction per backend, with the recipients it holds
        // each backend hears the MAIL parameters its LHLO offered (a has no SIZE, no 8BITMIME)
        assertThat(b.commands()).contains("MAIL FROM:<sender@remote.test> SIZE=100 BODY=8BITMIME");
        assertThat(a.commands())
                .containsSubsequence(
                        "MAIL FROM:<sender@remote.test>",
                        "RCPT TO:<alice@example.test>",
                        "RCPT TO:<carol@example.test>",
                        "DATA");
        assertThat(a.commands()).filteredOn(l -> l.startsWith("MAIL")).hasSize(1);
        assertThat(a.commands()).noneMatch(l -> l.contains("bob"));
        assertThat(b.commands()).filteredOn(l -> l.startsWith("RCPT")).containsExactly("RCPT TO:<bob@example.test>");
        assertThat(a.messages()).singleElement().asString().contains("hello");
        assertThat(b.messages()).singleElement().asString().contains("hello");
    }

    @Test
    void backendsLearnTheClientByXclientOrProxyHeaderAndHearLhlo() {
        int headers = b.proxyHeaders().size();
        SmtpTestClient c = connect("routed");
        c.command("MAIL FROM:<>");
        c.command("RCPT TO:<alice@example.test>");
        c.command("RCPT TO:<bob@example.test>");
        c.command("RSET");
        quit(c);
        assertThat(a.commands())
                .anyMatch(l -> l.startsWith("XCLIENT ")
                        && l.contains("ADDR=127.0.0.1")
                        && l.contains("HELO=mta.test")
                        && l.contains("PROTO=LMTP"));
        assertThat(a.commands()).last().isEqualTo("QUIT");
        assertThat(a.commands()).contains("LHLO mta.test").noneMatch(l -> l.startsWith("EHLO"));
        assertThat(b.proxyHeaders()).hasSize(headers + 1);
        assertThat(b.commands()).contains("RSET");
    }

    @Test
    void eachRecipientGetsItsOwnBackendsAnswer() {
        a.endReply = rcpt -> rcpt.contains("carol") ? "452 4.2.2 <carol@example.test> Mailbox full" : "250 2.0.0 ok";
        a.rcptReply = rcpt -> rcpt.contains("dave") ? "421 4.3.2 shutting down" : "250 2.1.5 fake ok";
        b.rcptReply = rcpt -> "550 5.1.1 <bob@example.test> User doesn't exist";
        SmtpTestClient c = connect("routed");
        c.command("MAIL FROM:<sender@remote.test>");
        assertThat(c.command("RCPT TO:<alice@example.test>")).containsExactly("250 2.1.5 fake ok");
        assertThat(c.command("RCPT TO:<bob@example.test>"))
                .containsExactly("550 5.1.1 <bob@example.test> User doesn't exist");
        assertThat(c.command("RCPT TO:<carol@example.test>")).containsExactly("250 2.1.5 fake ok");
        // a backend's 421 is about its own connection: the MTA hears 451 for that recipient and goes on
        assertThat(c.command("RCPT TO:<dave@example.test>"))
                .singleElement()
                .asString()
                .startsWith("451 4.4.2");
        c.command("DATA");
        assertThat(message(c, 2, "x")).containsExactly("250 2.0.0 ok", "452 4.2.2 <carol@example.test> Mailbox full");
        quit(c);
    }

    @Test
    void aBackendLostMidMessageFailsItsRecipientsTemporarilyOnly() {
        b.closeAfterBytes = 10;
        SmtpTestClient c = connect("routed");
        c.command("MAIL FROM:<sender@remote.test>");
        c.command("RCPT TO:<bob@example.test>");
        c.command("RCPT TO:<alice@example.test>");
        c.command("DATA");
        List<String> replies = message(c, 2, "a body longer than ten bytes, so that b goes away meanwhile");
        assertThat(replies.get(0)).startsWith("451 4.4.2");
        assertThat(replies.get(1)).isEqualTo("250 2.0.0 <alice@example.test> fake saved");
        // the session goes on: the next transaction reaches bob's backend again
        b.closeAfterBytes = -1;
        c.command("MAIL FROM:<sender@remote.test>");
        assertThat(c.command("RCPT TO:<bob@example.test>")).containsExactly("250 2.1.5 fake ok");
        c.command("DATA");
        assertThat(message(c, 1, "again")).containsExactly("250 2.0.0 <bob@example.test> fake saved");
        quit(c);
        assertThat(b.messages()).singleElement().asString().contains("again");
    }

    @Test
    void theUsersFileRoutesRecipientsAndRefusesUnknownOnes() {
        SmtpTestClient c = connect("users");
        c.command("MAIL FROM:<sender@remote.test>");
        assertThat(c.command("RCPT TO:<dave@example.test>"))
                .containsExactly("550 5.1.1 <dave@example.test>: Recipient address rejected: User unknown");
        assertThat(c.command("RCPT TO:<Bob@example.test>")).containsExactly("250 2.1.5 fake ok");
        assertThat(c.command("DATA")).singleElement().asString().startsWith("354 ");
        assertThat(message(c, 1, "via the file")).singleElement().asString().startsWith("250 ");
        quit(c);
        // pool=b in the file: bob's backend, not the listener's pool
        assertThat(b.messages()).singleElement().asString().contains("via the file");
        assertThat(a.connections).isEmpty();
    }

    @Test
    void aLookupThatCannotBeAnsweredIsATemporaryFailure() {
        SmtpTestClient c = connect("down");
        c.command("MAIL FROM:<sender@remote.test>");
        assertThat(c.command("RCPT TO:<alice@example.test>"))
                .singleElement()
                .asString()
                .startsWith("451 4.3.0 ");
        assertThat(c.command("DATA")).containsExactly("503 5.5.1 Error: no valid recipients");
        quit(c);
        assertThat(a.connections).isEmpty();
    }

    @Test
    void aMessageOverTheSizeLimitIsRefusedForEveryRecipient() {
        SmtpTestClient c = connect("small");
        assertThat(c.command("MAIL FROM:<s@remote.test> SIZE=5000"))
                .containsExactly("552 5.3.4 Error: message size exceeds fixed limit");
        c.command("MAIL FROM:<s@remote.test>");
        c.command("RCPT TO:<alice@example.test>");
        c.command("RCPT TO:<bob@example.test>");
        c.command("DATA");
        assertThat(message(c, 2, "x".repeat(2000))).containsOnly("552 5.3.4 Error: message size exceeds fixed limit");
        assertThat(c.command("NOOP")).containsExactly("250 2.0.0 Ok");
        quit(c);
        assertThat(a.messages()).isEmpty();
        assertThat(b.messages()).isEmpty();
    }

    @Test
    void smtpGreetingsAndBadSequencesGetLmtpsErrors() {
        SmtpTestClient c = SmtpTestClient.connect(postern.port("routed"));
        c.replyLine();
        assertThat(c.command("EHLO mta.test")).singleElement().asString().startsWith("500 5.5.1");
        assertThat(c.command("MAIL FROM:<a@b.test>")).containsExactly("503 5.5.1 Error: send LHLO first");
        c.command("LHLO mta.test");
        assertThat(c.command("RCPT TO:<alice@example.test>")).containsExactly("503 5.5.1 Error: need MAIL command");
        c.command("MAIL FROM:<a@b.test>");
        assertThat(c.command("RCPT TO:<alice@example.test> NOTIFY=NEVER"))
                .singleElement()
                .asString()
                .startsWith("555 5.5.4");
        assertThat(c.command("DATA")).containsExactly("503 5.5.1 Error: no valid recipients");
        quit(c);
    }
}
