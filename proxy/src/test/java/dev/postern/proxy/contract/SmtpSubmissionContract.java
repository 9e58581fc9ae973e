package dev.postern.proxy.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.postern.config.Protocol;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.SmtpTestClient;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The SMTP submission front end before AUTH, stated once and run once per {@link ListenerMode} by a subclass: the
 * greeting, EHLO per TLS state, STARTTLS, encryption before AUTH, the login relayed to the backend, errors and QUIT.
 */
abstract class SmtpSubmissionContract extends FrontendContract {
    private static final String ENCRYPTION_REQUIRED =
            "538 5.7.11 Encryption required for requested authentication mechanism";

    SmtpSubmissionContract(ListenerMode mode) {
        super(Protocol.SMTP, mode);
    }

    @Override
    FakeLineBackend.Builder backend() {
        return FakeLineBackend.builder()
                .greeting("220 fake.backend ESMTP")
                .on("EHLO", "250-fake.backend", "250-PIPELINING", "250-8BITMIME", "250 AUTH PLAIN LOGIN")
                .on(
                        "AUTH",
                        (c, line) -> c.send(
                                isPlainWithThePassword(line)
                                        ? "235 2.7.0 Authentication successful"
                                        : "535 5.7.8 fake: wrong password"))
                .on("MAIL", "250 2.1.0 fake sender ok")
                .on("NOOP", "250 2.0.0 fake NOOP")
                .on("QUIT", (c, line) -> c.sendAndClose("221 2.0.0 fake bye"))
                .otherwise("502 5.5.2 fake: unknown command");
    }

    @Override
    boolean probes() {
        return true;
    }

    /** A new connection, its greeting checked. */
    private SmtpTestClient connect() {
        SmtpTestClient client = opened(SmtpTestClient.connect(port()));
        assertThat(client.reply()).singleElement().asString().matches("220 \\S+ ESMTP Postern");
        return client;
    }

    /** A new connection after EHLO on which credentials may go: after STARTTLS where the listener wants it. */
    private SmtpTestClient readyToLogIn() {
        SmtpTestClient client = connect();
        client.command("EHLO client.example");
        if (!mode.takesCredentialsAtOnce()) {
            assertThat(client.command("STARTTLS")).containsExactly("220 2.0.0 Ready to start TLS");
            client.startTls(clientTls);
            client.command("EHLO client.example");
        }
        return client;
    }

    /** The keywords of an EHLO reply (its first line is the host name). */
    private static List<String> ehlo(SmtpTestClient client) {
        List<String> reply = client.command("EHLO client.example");
        assertThat(reply).allMatch(line -> line.startsWith("250"));
        return reply.stream().skip(1).map(line -> line.substring(4)).toList();
    }

    /** AUTH exactly where credentials may go; STARTTLS exactly where it may be used. */
    private static void assertKeywords(List<String> keywords, boolean credentials, boolean startTls) {
        assertThat(keywords).as("the backend's, as the probe learned them").contains("PIPELINING", "8BITMIME");
        if (credentials) {
            assertThat(keywords).anyMatch(keyword -> keyword.startsWith("AUTH PLAIN LOGIN"));
        } else {
            assertThat(keywords).noneMatch(keyword -> keyword.startsWith("AUTH"));
        }
        if (startTls) {
            assertThat(keywords).contains("STARTTLS");
        } else {
            assertThat(keywords).doesNotContain("STARTTLS");
        }
    }

    private static boolean isLogin(String line) {
        return line.startsWith("AUTH ");
    }

    @Test
    void greetsWithItsHostName() {
        try (SmtpTestClient client = connect()) {
            assertThat(client.command("NOOP"))
                    .as("nothing more came with the greeting")
                    .containsExactly("250 2.0.0 OK");
        }
    }

    @Test
    void ehloOffersWhatTheConnectionAllows() {
        try (SmtpTestClient client = connect()) {
            assertKeywords(ehlo(client), mode.takesCredentialsAtOnce(), mode.offersStartTls);
        }
    }

    @Test
    void startTlsUpgradesAndTheSessionStartsOver() {
        assumeTrue(mode.offersStartTls, "the listener offers STARTTLS");
        try (SmtpTestClient client = connect()) {
            client.command("EHLO client.example");
            assertThat(client.command("STARTTLS")).containsExactly("220 2.0.0 Ready to start TLS");
            client.startTls(clientTls);
            assertThat(client.command(authPlain(USER, PASSWORD))).containsExactly("503 5.5.1 Send EHLO first");
            assertKeywords(ehlo(client), true, false);
            assertThat(client.command("STARTTLS")).containsExactly("503 5.5.1 TLS already active");
        }
        assertNoLoginReachedTheBackend(SmtpSubmissionContract::isLogin);
    }

    @Test
    void startTlsIsRefusedWhereItIsNotOffered() {
        assumeFalse(mode.offersStartTls, "the listener offers STARTTLS");
        try (SmtpTestClient client = connect()) {
            client.command("EHLO client.example");
            assertThat(client.command("STARTTLS"))
                    .containsExactly(
                            mode.implicitTls ? "503 5.5.1 TLS already active" : "502 5.5.1 STARTTLS not available");
            assertThat(client.command("NOOP")).containsExactly("250 2.0.0 OK");
        }
    }

    @Test
    void startTlsRefusesPipelinedCommands() {
        assumeTrue(mode.offersStartTls, "the listener offers STARTTLS");
        try (SmtpTestClient client = connect()) {
            client.command("EHLO client.example");
            client.write("STARTTLS\r\n" + authPlain(USER, PASSWORD) + "\r\n");
            // neither the go-ahead nor an answer to AUTH: the connection just ends
            assertThat(client.closedByServer()).isTrue();
        }
        assertNoLoginReachedTheBackend(SmtpSubmissionContract::isLogin);
    }

    @Test
    void credentialsInClearTextAreRefusedWhereTheListenerForbidsThem() {
        assumeFalse(mode.takesCredentialsAtOnce(), "the listener takes credentials at once");
        try (SmtpTestClient client = connect()) {
            client.command("EHLO client.example");
            assertThat(client.command(authPlain(USER, PASSWORD))).containsExactly(ENCRYPTION_REQUIRED);
            assertThat(client.command("AUTH LOGIN")).containsExactly(ENCRYPTION_REQUIRED);
            assertThat(client.command("MAIL FROM:<a@example.test>"))
                    .containsExactly("530 5.7.0 Authentication required");
        }
        assertNoLoginReachedTheBackend(SmtpSubmissionContract::isLogin);
    }

    @Test
    void aLoginIsRelayedToTheBackend() {
        try (SmtpTestClient client = readyToLogIn()) {
            assertThat(client.command(authPlain(USER, PASSWORD)))
                    .containsExactly("235 2.7.0 Authentication successful");
            // the session is the backend's now
            assertThat(client.command("MAIL FROM:<alice@example.test>")).containsExactly("250 2.1.0 fake sender ok");
            assertThat(client.command("QUIT")).containsExactly("221 2.0.0 fake bye");
        }
        assertThat(backendConnectionWith(FrontendContract::isPlainWithThePassword))
                .contains("MAIL FROM:<alice@example.test>", "QUIT");
    }

    @Test
    void authLoginIsRelayedToTheBackend() {
        try (SmtpTestClient client = readyToLogIn()) {
            assertThat(client.command("AUTH LOGIN")).containsExactly("334 VXNlcm5hbWU6");
            assertThat(client.command(b64(USER))).containsExactly("334 UGFzc3dvcmQ6");
            assertThat(client.command(b64(PASSWORD))).containsExactly("235 2.7.0 Authentication successful");
            assertThat(client.command("MAIL FROM:<alice@example.test>")).containsExactly("250 2.1.0 fake sender ok");
        }
        assertThat(backendConnectionWith(FrontendContract::isPlainWithThePassword))
                .contains("MAIL FROM:<alice@example.test>");
    }

    @Test
    void aWrongPasswordIs535AndTheClientMayTryAgain() {
        try (SmtpTestClient client = readyToLogIn()) {
            assertThat(client.command(authPlain(USER, WRONG_PASSWORD)))
                    .containsExactly("535 5.7.8 Authentication credentials invalid");
            assertThat(client.command("NOOP")).containsExactly("250 2.0.0 OK");
            assertThat(client.command(authPlain(USER, PASSWORD)))
                    .containsExactly("235 2.7.0 Authentication successful");
        }
    }

    @Test
    void anUnknownCommandIs500AndTheSessionGoesOn() {
        try (SmtpTestClient client = connect()) {
            assertThat(client.command("FROBNICATE")).containsExactly("500 5.5.2 Unknown command");
            assertThat(client.command("NOOP")).containsExactly("250 2.0.0 OK");
        }
        assertNoLoginReachedTheBackend(SmtpSubmissionContract::isLogin);
    }

    @Test
    void quitSaysByeAndCloses() {
        try (SmtpTestClient client = connect()) {
            assertThat(client.command("QUIT")).containsExactly("221 2.0.0 Bye");
            assertThat(client.closedByServer()).isTrue();
        }
    }
}
