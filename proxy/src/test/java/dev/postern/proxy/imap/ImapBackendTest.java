package dev.postern.proxy.imap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Protocol;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.TestUsers;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.ImapTestClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The backend login dialogue against a scripted fake backend, for what a real Dovecot will not do on purpose: bytes
 * injected after its STARTTLS go-ahead, missing capabilities, no LITERAL+ or SASL-IR, error challenges, temporary
 * refusals, bad greetings. Clients connect to plain listeners that allow plaintext logins, one per backend mode.
 */
class ImapBackendTest {
    static PosternHarness postern;
    static FakeLineBackend backend;

    @BeforeAll
    static void start() throws Exception {
        backend = FakeLineBackend.start(c -> {});
        // the master user is used only for users Postern verified itself
        Path dir = java.nio.file.Files.createTempDirectory("imap-backend-test");
        TestUsers.write(dir, new String[][] {{"alice", "whatever"}});
        postern = PosternHarness.start(
                """
                listeners:
                  - {name: plain, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: plain}
                  - {name: starttls, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: starttls}
                  - {name: master, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: master,
                     auth: [local]}
                  - {name: id, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: id}
                  - {name: proxy, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: proxy}
                pools:
                  - {name: plain, backends: [{address: "127.0.0.1:%5$d"}]}
                  - {name: starttls, backends: [{address: "127.0.0.1:%5$d", tls: starttls, tls-verify: false}]}
                  - name: master
                    backends: [{address: "127.0.0.1:%5$d", master-user: "boss", master-password: "boss-pw"}]
                  - {name: id, backends: [{address: "127.0.0.1:%5$d", identity: id}]}
                  - name: proxy
                    backends: [{address: "127.0.0.1:%5$d", identity: proxy-v2, tls: implicit, tls-verify: false}]
                auth:
                  providers:
                    - {name: local, type: static, file: users.txt}
                """
                        .replace("%5$d", Integer.toString(backend.port()))
                        .formatted(
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next()),
                dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (postern != null) {
            postern.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @BeforeEach
    void reset() {
        backend.reset();
    }

    @AfterEach
    void scriptRanWithoutSurprises() {
        postern.awaitNoSessions();
        assertThat(backend.failure()).as("the fake backend's script failed").isNull();
    }

    /** Connects to {@code listener}, sends {@code commands}, returns the replies up to the one tagged {@code tag}. */
    private static List<String> client(String listener, String commands, String tag) throws Exception {
        try (ImapTestClient client = ImapTestClient.connect(postern.port(listener))) {
            assertThat(client.line()).startsWith("* OK [CAPABILITY");
            client.write(commands);
            return client.until(tag);
        }
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String unb64(String s) {
        return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
    }

    private static final String UNAVAILABLE = "a NO [UNAVAILABLE] Service temporarily unavailable, try again later";

    // ---- STARTTLS towards the backend

    @Test
    void bytesInjectedAfterTheBackendsStartTlsGoAheadAreDropped() throws Exception {
        backend.script(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] fake");
            String starttls = c.line();
            assertThat(starttls).endsWith(" STARTTLS");
            // the go-ahead and a forged line in one write: the forged line must never count
            c.write(c.tagOf(starttls) + " OK Begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n");
            c.startTls();
            String capability = c.line();
            assertThat(capability).endsWith(" CAPABILITY");
            c.send("* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN");
            c.send(c.tagOf(capability) + " OK done");
            String login = c.line();
            c.send(c.tagOf(login) + " OK [CAPABILITY IMAP4rev1 IDLE X-AFTER-TLS] Logged in");
            c.line();
        });
        List<String> replies = client("starttls", "a LOGIN alice pw\r\n", "a");
        assertThat(replies).containsExactly("a OK [CAPABILITY IMAP4rev1 IDLE X-AFTER-TLS] Logged in");
        // LOGIN went over TLS after the capabilities were asked again, not taken from the injected line
        assertThat(backend.received().get(2)).endsWith(" LOGIN \"alice\" \"pw\"");
    }

    @Test
    void aBackendWithoutStartTlsGetsNoCredentials() throws Exception {
        backend.script(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake without STARTTLS");
            c.line(); // the end of the stream: Postern gives up
        });
        assertThat(client("starttls", "a LOGIN alice pw\r\n", "a")).containsExactly(UNAVAILABLE);
        assertThat(backend.received()).noneMatch(l -> l.contains("LOGIN"));
    }

    // ---- LOGIN, literals, capabilities

    @Test
    void synchronizingLiteralWithoutLiteralPlusAndCapabilitiesAskedForBeforeAndAfter() throws Exception {
        String password = "pä55wörd";
        int bytes = password.getBytes(StandardCharsets.UTF_8).length;
        backend.script(c -> {
            c.send("* OK fake without capabilities");
            String capability = c.line();
            assertThat(capability).endsWith(" CAPABILITY");
            c.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN");
            c.send(c.tagOf(capability) + " OK done");
            String login = c.line();
            assertThat(login).endsWith(" LOGIN \"alice\" {" + bytes + "}");
            c.send("+ go ahead");
            assertThat(c.bytes(bytes)).isEqualTo(password);
            assertThat(c.line()).isEmpty();
            c.send(c.tagOf(login) + " OK Logged in");
            String after = c.line();
            assertThat(after).endsWith(" CAPABILITY");
            c.send("* CAPABILITY IMAP4rev1 IDLE STARTTLS X-AFTER");
            c.send(c.tagOf(after) + " OK done");
            c.line();
        });
        // the client's literal is non-synchronizing; the backend's must be synchronizing
        List<String> replies = client("plain", "a LOGIN alice {" + bytes + "+}\r\n" + password + "\r\n", "a");
        // STARTTLS describes the backend connection, not the client's: it is not passed on
        assertThat(replies).containsExactly("a OK [CAPABILITY IMAP4rev1 IDLE X-AFTER] Logged in");
        assertThat(postern.postern().services().capabilities().get("plain", Protocol.IMAP))
                .hasValue(List.of("IMAP4rev1", "IDLE", "STARTTLS", "X-AFTER"));
    }

    @Test
    void nonSynchronizingLiteralWithLiteralPlusAndCapabilitiesFromUntaggedLines() throws Exception {
        String password = "pä55wörd";
        int bytes = password.getBytes(StandardCharsets.UTF_8).length;
        backend.script(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1 LITERAL+] fake");
            String login = c.line();
            assertThat(login).endsWith(" LOGIN \"alice\" {" + bytes + "+}");
            assertThat(c.bytes(bytes)).isEqualTo(password);
            assertThat(c.line()).isEmpty();
            c.send("* CAPABILITY IMAP4rev1 X-UNTAGGED");
            c.send(c.tagOf(login) + " OK Logged in");
            c.line();
        });
        assertThat(client("plain", "a LOGIN alice \"" + password + "\"\r\n", "a"))
                .containsExactly("a OK [CAPABILITY IMAP4rev1 X-UNTAGGED] Logged in");
    }

    @Test
    void quotesAndBackslashesAreEscaped() throws Exception {
        backend.script(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1] fake");
            String login = c.line();
            assertThat(login).endsWith(" LOGIN \"al ice\" \"p\\\"w\\\\d {5}\"");
            c.send(c.tagOf(login) + " OK [CAPABILITY IMAP4rev1] Logged in");
            c.line();
        });
        try (ImapTestClient client = ImapTestClient.connect(postern.port("plain"))) {
            client.line();
            client.write("a LOGIN \"al ice\" {9}\r\n");
            assertThat(client.line()).isEqualTo("+ Ready for literal data");
            client.write("p\"w\\d {5}\r\n");
            assertThat(client.line()).isEqualTo("a OK [CAPABILITY IMAP4rev1] Logged in");
        }
    }

    @Test
    void authorizationIdentityGoesThroughAuthenticatePlainWithInitialResponse() throws Exception {
        backend.script(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] fake");
            String auth = c.line();
            String[] words = auth.split(" ");
            assertThat(Arrays.copyOfRange(words, 1, 3)).containsExactly("AUTHENTICATE", "PLAIN");
            assertThat(unb64(words[3])).isEqualTo("admin\0alice\0pw");
            c.send(c.tagOf(auth) + " OK [CAPABILITY IMAP4rev1] Logged in");
            c.line();
        });
        assertThat(client("plain", "a AUTHENTICATE PLAIN " + b64("admin\0alice\0pw") + "\r\n", "a"))
                .containsExactly("a OK [CAPABILITY IMAP4rev1] Logged in");
    }

    @Test
    void masterUserWithoutSaslIrAnswersTheChallenge() throws Exception {
        backend.script(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake");
            String auth = c.line();
            assertThat(auth).endsWith(" AUTHENTICATE PLAIN");
            c.send("+ ");
            assertThat(unb64(c.line())).isEqualTo("alice\0boss\0boss-pw");
            c.send(c.tagOf(auth) + " OK [CAPABILITY IMAP4rev1] Logged in");
            c.line();
        });
        assertThat(client("master", "a LOGIN alice whatever\r\n", "a"))
                .containsExactly("a OK [CAPABILITY IMAP4rev1] Logged in");
    }

    // ---- tokens and refusals

    @Test
    void tokenIsRelayedAndAnErrorChallengeGetsAnEmptyResponse() throws Exception {
        String message = "user=alice\u0001auth=Bearer tok\u0001\u0001";
        backend.script(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] fake");
            String auth = c.line();
            assertThat(auth).endsWith(" AUTHENTICATE XOAUTH2 " + b64(message));
            c.send("+ " + b64("{\"status\":\"401\"}"));
            assertThat(c.line()).isEmpty();
            c.send(c.tagOf(auth) + " NO [AUTHENTICATIONFAILED] Invalid token");
            c.line();
        });
        assertThat(client("plain", "a AUTHENTICATE XOAUTH2 " + b64(message) + "\r\n", "a"))
                .containsExactly("a NO [AUTHENTICATIONFAILED] Authentication failed.");
    }

    @Test
    void temporaryRefusalIsUnavailable() throws Exception {
        backend.script(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1] fake");
            String login = c.line();
            c.send(c.tagOf(login) + " NO [UNAVAILABLE] Maintenance");
            c.line();
        });
        assertThat(client("plain", "a LOGIN alice pw\r\n", "a")).containsExactly(UNAVAILABLE);
    }

    @Test
    void badGreetingsAndRepliesAreUnavailable() throws Exception {
        for (String greeting : List.of("* PREAUTH logged in already", "* BYE go away", "HTTP/1.1 400 Bad Request")) {
            backend.script(c -> {
                c.send(greeting);
                c.line();
            });
            assertThat(client("plain", "a LOGIN alice pw\r\n", "a"))
                    .as(greeting)
                    .containsExactly(UNAVAILABLE);
            assertThat(backend.received()).as(greeting).noneMatch(l -> l.contains("LOGIN"));
        }
        backend.script(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1] fake");
            String login = c.line();
            c.send(c.tagOf(login) + " BAD what?");
            c.line();
        });
        assertThat(client("plain", "a LOGIN alice pw\r\n", "a")).containsExactly(UNAVAILABLE);
    }

    // ---- identity

    @Test
    void idCommandCarriesTheClientsAddressBeforeLogin() throws Exception {
        backend.script(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1 ID] fake");
            String id = c.line();
            assertThat(id)
                    .matches("P\\d+ ID \\(\"x-originating-ip\" \"127\\.0\\.0\\.1\" \"x-originating-port\" \"\\d+\""
                            + " \"x-connected-ip\" \"127\\.0\\.0\\.1\" \"x-connected-port\" \"\\d+\""
                            + " \"x-session-id\" \"[0-9a-z]+\" \"name\" \"Postern\"\\)");
            c.send("* ID NIL");
            c.send(c.tagOf(id) + " OK ID completed");
            String login = c.line();
            assertThat(login).contains(" LOGIN ");
            c.send(c.tagOf(login) + " OK [CAPABILITY IMAP4rev1] Logged in");
            c.line();
        });
        assertThat(client(
                        "id",
                        "i ID (\"name\" \"evil\\\" \\\"x-originating-ip\\\" \\\"6.6.6.6\")\r\na LOGIN alice pw\r\n",
                        "a"))
                .contains("a OK [CAPABILITY IMAP4rev1] Logged in");
        // the client's own ID fields never reach the backend
        assertThat(backend.received()).noneMatch(l -> l.contains("evil") || l.contains("6.6.6.6"));
    }

    @Test
    void proxyHeaderPrecedesTheTlsHandshakeOfAnImplicitTlsBackend() throws Exception {
        backend.script(c -> {
            byte[] header = c.raw(16);
            assertThat(Arrays.copyOfRange(header, 0, 12))
                    .isEqualTo(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
            assertThat(header[12]).isEqualTo((byte) 0x21); // version 2, PROXY
            assertThat(header[13]).isEqualTo((byte) 0x11); // TCP over IPv4
            byte[] addresses = c.raw(((header[14] & 0xff) << 8) | (header[15] & 0xff));
            assertThat(Arrays.copyOfRange(addresses, 0, 4)).isEqualTo(new byte[] {127, 0, 0, 1});
            c.startTls();
            c.send("* OK [CAPABILITY IMAP4rev1] fake behind PROXY and TLS");
            String login = c.line();
            c.send(c.tagOf(login) + " OK [CAPABILITY IMAP4rev1] Logged in");
            c.line();
        });
        assertThat(client("proxy", "a LOGIN alice pw\r\n", "a"))
                .containsExactly("a OK [CAPABILITY IMAP4rev1] Logged in");
    }

    // ---- after login

    @Test
    void commandsPipelinedAfterLoginAreRelayedOnceLoggedIn() throws Exception {
        backend.script(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1] fake");
            String login = c.line();
            c.send(c.tagOf(login) + " OK [CAPABILITY IMAP4rev1 IDLE] Logged in");
            assertThat(c.line()).isEqualTo("b SELECT INBOX");
            c.send("* 3 EXISTS");
            c.send("b OK [READ-WRITE] Select completed");
            assertThat(c.line()).isEqualTo("c LOGOUT");
            c.send("* BYE Logging out");
            c.send("c OK Logout completed");
        });
        List<String> replies = client("plain", "a LOGIN alice pw\r\nb SELECT INBOX\r\nc LOGOUT\r\n", "c");
        assertThat(replies)
                .containsExactly(
                        "a OK [CAPABILITY IMAP4rev1 IDLE] Logged in",
                        "* 3 EXISTS",
                        "b OK [READ-WRITE] Select completed",
                        "* BYE Logging out",
                        "c OK Logout completed");
    }
}
