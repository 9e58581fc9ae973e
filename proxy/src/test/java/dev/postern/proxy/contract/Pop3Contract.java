package dev.postern.proxy.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.postern.config.Protocol;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.Pop3TestClient;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The POP3 front end's AUTHORIZATION state, stated once and run once per {@link ListenerMode} by a subclass: the
 * greeting, CAPA per TLS state, STLS, privacy, the login relayed to the backend, errors and QUIT.
 */
abstract class Pop3Contract extends FrontendContract {
    private static final String PLAINTEXT_REFUSED =
            "-ERR [SYS/PERM] Plaintext authentication disallowed on non-secure connection";

    Pop3Contract(ListenerMode mode) {
        super(Protocol.POP3, mode);
    }

    @Override
    FakeLineBackend.Builder backend() {
        return FakeLineBackend.builder()
                .greeting("+OK fake ready")
                .on("CAPA", "+OK", "TOP", "UIDL", "USER", "SASL PLAIN", ".")
                .on(
                        "AUTH",
                        (c, line) -> c.send(
                                isPlainWithThePassword(line)
                                        ? "+OK fake logged in"
                                        : "-ERR [AUTH] fake: wrong password"))
                .on("USER", "+OK")
                .on(
                        "PASS",
                        (c, line) -> c.send(
                                line.equals("PASS " + PASSWORD)
                                        ? "+OK fake logged in"
                                        : "-ERR [AUTH] fake: wrong password"))
                .on("STAT", "+OK 0 0")
                .on("QUIT", (c, line) -> c.sendAndClose("+OK fake bye"))
                .otherwise("-ERR fake: unknown command");
    }

    @Override
    boolean probes() {
        return true;
    }

    /** A new connection, its greeting checked. */
    private Pop3TestClient connect() {
        Pop3TestClient client = opened(Pop3TestClient.connect(port()));
        assertThat(client.readLine()).isEqualTo("+OK Postern ready");
        return client;
    }

    /** A new connection on which credentials may go: after STLS where the listener wants it first. */
    private Pop3TestClient readyToLogIn() {
        Pop3TestClient client = connect();
        if (!mode.takesCredentialsAtOnce()) {
            assertThat(client.command("STLS")).isEqualTo("+OK Begin TLS negotiation now.");
            client.startTls(clientTls);
        }
        return client;
    }

    private static List<String> capa(Pop3TestClient client) {
        assertThat(client.command("CAPA")).isEqualTo("+OK Capability list follows");
        return client.readList();
    }

    /** USER and SASL exactly where credentials may go; STLS exactly where it may be used. */
    private static void assertCapabilities(List<String> capabilities, boolean credentials, boolean stls) {
        assertThat(capabilities)
                .as("the backend's and Postern's own")
                .contains("TOP", "UIDL", "IMPLEMENTATION Postern");
        if (credentials) {
            assertThat(capabilities).contains("USER").anyMatch(line -> line.startsWith("SASL PLAIN"));
        } else {
            assertThat(capabilities).doesNotContain("USER").noneMatch(line -> line.startsWith("SASL"));
        }
        if (stls) {
            assertThat(capabilities).contains("STLS");
        } else {
            assertThat(capabilities).doesNotContain("STLS");
        }
    }

    private static boolean isLogin(String line) {
        return line.startsWith("AUTH ") || line.startsWith("USER ") || line.startsWith("PASS ");
    }

    @Test
    void greetsWithoutAnApopTimestamp() {
        try (Pop3TestClient client = connect()) {
            assertThat(client.command("NOOP"))
                    .as("nothing more came with the greeting")
                    .startsWith("-ERR ");
        }
    }

    @Test
    void capaListsWhatTheConnectionAllows() {
        try (Pop3TestClient client = connect()) {
            assertCapabilities(capa(client), mode.takesCredentialsAtOnce(), mode.offersStartTls);
        }
    }

    @Test
    void stlsUpgradesAndCapaChanges() {
        assumeTrue(mode.offersStartTls, "the listener offers STLS");
        try (Pop3TestClient client = connect()) {
            assertThat(client.command("STLS")).isEqualTo("+OK Begin TLS negotiation now.");
            client.startTls(clientTls);
            assertCapabilities(capa(client), true, false);
            assertThat(client.command("STLS")).isEqualTo("-ERR TLS is already active");
        }
    }

    @Test
    void stlsIsRefusedWhereItIsNotOffered() {
        assumeFalse(mode.offersStartTls, "the listener offers STLS");
        try (Pop3TestClient client = connect()) {
            assertThat(client.command("STLS"))
                    .isEqualTo(mode.implicitTls ? "-ERR TLS is already active" : "-ERR TLS is not available");
            assertThat(client.command("CAPA")).isEqualTo("+OK Capability list follows");
            client.readList();
        }
    }

    @Test
    void stlsRefusesPipelinedCommands() {
        assumeTrue(mode.offersStartTls, "the listener offers STLS");
        try (Pop3TestClient client = connect()) {
            client.write("STLS\r\nUSER " + USER + "\r\n");
            // neither the go-ahead nor an answer to USER: the connection just ends
            assertThat(client.readLine()).isNull();
        }
        assertNoLoginReachedTheBackend(Pop3Contract::isLogin);
    }

    @Test
    void credentialsInClearTextAreRefusedWhereTheListenerForbidsThem() {
        assumeFalse(mode.takesCredentialsAtOnce(), "the listener takes credentials at once");
        try (Pop3TestClient client = connect()) {
            assertThat(client.command("USER " + USER)).isEqualTo(PLAINTEXT_REFUSED);
            assertThat(client.command("PASS " + PASSWORD)).isEqualTo(PLAINTEXT_REFUSED);
            assertThat(client.command(authPlain(USER, PASSWORD))).isEqualTo(PLAINTEXT_REFUSED);
        }
        assertNoLoginReachedTheBackend(Pop3Contract::isLogin);
    }

    @Test
    void aLoginIsRelayedToTheBackend() {
        try (Pop3TestClient client = readyToLogIn()) {
            assertThat(client.command("USER " + USER)).isEqualTo("+OK");
            assertThat(client.command("PASS " + PASSWORD)).isEqualTo("+OK fake logged in");
            // the session is the backend's now
            assertThat(client.command("STAT")).isEqualTo("+OK 0 0");
            assertThat(client.command("QUIT")).isEqualTo("+OK fake bye");
        }
        assertThat(backendConnectionWith(FrontendContract::isPlainWithThePassword))
                .contains("CAPA", "STAT", "QUIT");
    }

    @Test
    void authPlainIsRelayedToTheBackend() {
        try (Pop3TestClient client = readyToLogIn()) {
            assertThat(client.command(authPlain(USER, PASSWORD))).isEqualTo("+OK fake logged in");
            assertThat(client.command("STAT")).isEqualTo("+OK 0 0");
        }
        assertThat(backendConnectionWith(FrontendContract::isPlainWithThePassword))
                .contains("STAT");
    }

    @Test
    void aWrongPasswordIsAnErrAndTheClientMayTryAgain() {
        try (Pop3TestClient client = readyToLogIn()) {
            assertThat(client.command("USER " + USER)).isEqualTo("+OK");
            assertThat(client.command("PASS " + WRONG_PASSWORD)).startsWith("-ERR [AUTH]");
            assertThat(client.command("CAPA")).isEqualTo("+OK Capability list follows");
            client.readList();
            assertThat(client.command(authPlain(USER, PASSWORD))).isEqualTo("+OK fake logged in");
        }
    }

    @Test
    void anUnknownCommandIsAnErrAndTheSessionGoesOn() {
        try (Pop3TestClient client = connect()) {
            assertThat(client.command("FROBNICATE")).isEqualTo("-ERR Unknown command or not allowed before login");
            assertThat(client.command("CAPA")).isEqualTo("+OK Capability list follows");
            client.readList();
        }
        assertNoLoginReachedTheBackend(Pop3Contract::isLogin);
    }

    @Test
    void quitSaysByeAndCloses() {
        try (Pop3TestClient client = connect()) {
            assertThat(client.command("QUIT")).isEqualTo("+OK Bye");
            assertThat(client.closedByServer()).isTrue();
        }
    }
}
