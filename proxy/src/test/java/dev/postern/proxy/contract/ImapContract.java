package dev.postern.proxy.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.postern.config.Protocol;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.ImapTestClient;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The IMAP front end's behaviour before login, stated once and run once per {@link ListenerMode} by a subclass: the
 * greeting and capabilities, STARTTLS, privacy, the login relayed to the backend, errors and LOGOUT.
 */
abstract class ImapContract extends FrontendContract {
    private static final String LOGIN_LINE = "LOGIN \"" + USER + "\" \"" + PASSWORD + "\"";
    /** Postern's own words, with the capabilities the backend has after login (IDLE is the fake's). */
    private static final String LOGGED_IN = "OK [CAPABILITY IMAP4rev1 IDLE] Logged in";

    ImapContract(ListenerMode mode) {
        super(Protocol.IMAP, mode);
    }

    @Override
    FakeLineBackend.Builder backend() {
        return FakeLineBackend.builder()
                .tagged()
                .greeting("* OK [CAPABILITY IMAP4rev1 LITERAL+] fake ready")
                .on("CAPABILITY", FakeLineBackend.tagged("* CAPABILITY IMAP4rev1 LITERAL+", "OK done"))
                .on(
                        "LOGIN",
                        (c, line) -> c.send(c.tagOf(line)
                                + (line.endsWith(" \"" + PASSWORD + "\"")
                                        ? " OK [CAPABILITY IMAP4rev1 IDLE] fake logged in"
                                        : " NO [AUTHENTICATIONFAILED] fake: wrong password")))
                .on("NOOP", FakeLineBackend.tagged("OK fake NOOP"))
                .on("LOGOUT", (c, line) -> c.sendAndClose("* BYE fake", c.tagOf(line) + " OK fake LOGOUT"))
                .otherwise((c, line) -> c.send(c.tagOf(line) + " BAD fake: unknown command"));
    }

    @Override
    boolean probes() {
        return false;
    }

    /** A new connection, its greeting read. */
    private ImapTestClient connect() {
        ImapTestClient client = opened(ImapTestClient.connect(port()));
        assertThat(client.greeting()).isNotNull();
        return client;
    }

    /** A new connection on which credentials may go: after STARTTLS where the listener wants it first. */
    private ImapTestClient readyToLogIn() {
        ImapTestClient client = connect();
        if (!mode.takesCredentialsAtOnce()) {
            assertThat(client.command("STARTTLS")).isEqualTo("OK Begin TLS negotiation now");
            client.startTls(clientTls);
        }
        return client;
    }

    /** The capabilities of the CAPABILITY answer; checks its tagged OK. */
    private static String capabilities(ImapTestClient client) {
        client.send("c CAPABILITY");
        List<String> reply = client.until("c");
        assertThat(reply).hasSize(2).last().isEqualTo("c OK CAPABILITY completed");
        assertThat(reply.get(0)).startsWith("* CAPABILITY ");
        return reply.get(0).substring("* CAPABILITY ".length());
    }

    /** Mechanisms exactly where credentials may go; STARTTLS exactly where it may be used. */
    private static void assertCapabilities(String capabilities, boolean credentials, boolean startTls) {
        List<String> names = List.of(capabilities.split(" "));
        assertThat(names).startsWith("IMAP4rev1").contains("LITERAL+", "ID");
        if (credentials) {
            assertThat(names).contains("AUTH=PLAIN", "AUTH=LOGIN").doesNotContain("LOGINDISABLED");
        } else {
            assertThat(names).contains("LOGINDISABLED").noneMatch(name -> name.startsWith("AUTH="));
        }
        if (startTls) {
            assertThat(names).contains("STARTTLS");
        } else {
            assertThat(names).doesNotContain("STARTTLS");
        }
    }

    private static boolean isLogin(String line) {
        return line.contains(" LOGIN ") || line.contains(" AUTHENTICATE ");
    }

    @Test
    void greetsWithTheCapabilitiesOfTheConnection() {
        try (ImapTestClient client = connect()) {
            String greeting = client.greeting();
            assertThat(greeting).startsWith("* OK [CAPABILITY ").endsWith("] Postern ready");
            String capabilities = greeting.substring("* OK [CAPABILITY ".length(), greeting.indexOf(']'));
            assertCapabilities(capabilities, mode.takesCredentialsAtOnce(), mode.offersStartTls);
        }
    }

    @Test
    void capabilityAnswersWhatTheGreetingSaid() {
        try (ImapTestClient client = connect()) {
            String greeting = client.greeting();
            assertThat(capabilities(client))
                    .isEqualTo(greeting.substring("* OK [CAPABILITY ".length(), greeting.indexOf(']')));
        }
    }

    @Test
    void startTlsUpgradesAndTheCapabilitiesChange() {
        assumeTrue(mode.offersStartTls, "the listener offers STARTTLS");
        try (ImapTestClient client = connect()) {
            assertThat(client.command("STARTTLS")).isEqualTo("OK Begin TLS negotiation now");
            client.startTls(clientTls);
            assertCapabilities(capabilities(client), true, false);
            assertThat(client.command("STARTTLS")).isEqualTo("BAD TLS is already active");
        }
    }

    @Test
    void startTlsIsRefusedWhereItIsNotOffered() {
        assumeFalse(mode.offersStartTls, "the listener offers STARTTLS");
        try (ImapTestClient client = connect()) {
            assertThat(client.command("STARTTLS"))
                    .isEqualTo(mode.implicitTls ? "BAD TLS is already active" : "BAD STARTTLS is not available");
            assertThat(client.command("NOOP")).isEqualTo("OK NOOP completed");
        }
    }

    @Test
    void startTlsRefusesPipelinedCommands() {
        assumeTrue(mode.offersStartTls, "the listener offers STARTTLS");
        try (ImapTestClient client = connect()) {
            client.write("a STARTTLS\r\nb " + LOGIN_LINE + "\r\n");
            // no go-ahead, no answer to b: the connection just ends
            assertThat(client.rest()).isEmpty();
        }
        assertNoLoginReachedTheBackend(ImapContract::isLogin);
    }

    @Test
    void credentialsInClearTextAreRefusedWhereTheListenerForbidsThem() {
        assumeFalse(mode.takesCredentialsAtOnce(), "the listener takes credentials at once");
        try (ImapTestClient client = connect()) {
            assertThat(client.command(LOGIN_LINE)).startsWith("NO [PRIVACYREQUIRED] ");
            assertThat(client.command("AUTHENTICATE PLAIN " + b64("\0" + USER + "\0" + PASSWORD)))
                    .startsWith("NO [PRIVACYREQUIRED] ");
            assertThat(client.command("NOOP")).isEqualTo("OK NOOP completed");
        }
        assertNoLoginReachedTheBackend(ImapContract::isLogin);
    }

    @Test
    void aLoginIsRelayedToTheBackend() {
        try (ImapTestClient client = readyToLogIn()) {
            assertThat(client.login(USER, PASSWORD)).isEqualTo(LOGGED_IN);
            // the session is the backend's now
            assertThat(client.command("NOOP")).isEqualTo("OK fake NOOP");
            assertThat(client.command("LOGOUT")).isEqualTo("OK fake LOGOUT");
        }
        assertThat(backendConnectionWith(ImapContract::isLogin))
                .anyMatch(line -> line.endsWith(" " + LOGIN_LINE))
                .anyMatch(line -> line.endsWith(" NOOP"));
    }

    @Test
    void authenticatePlainIsRelayedToTheBackend() {
        try (ImapTestClient client = readyToLogIn()) {
            assertThat(client.command("AUTHENTICATE PLAIN " + b64("\0" + USER + "\0" + PASSWORD)))
                    .isEqualTo(LOGGED_IN);
            assertThat(client.command("NOOP")).isEqualTo("OK fake NOOP");
        }
        assertThat(backendConnectionWith(ImapContract::isLogin)).anyMatch(line -> line.endsWith(" " + LOGIN_LINE));
    }

    @Test
    void aWrongPasswordIsNoAndTheClientMayTryAgain() {
        try (ImapTestClient client = readyToLogIn()) {
            assertThat(client.login(USER, WRONG_PASSWORD)).startsWith("NO [AUTHENTICATIONFAILED] ");
            assertThat(client.command("NOOP")).isEqualTo("OK NOOP completed");
            assertThat(client.login(USER, PASSWORD)).isEqualTo(LOGGED_IN);
        }
    }

    @Test
    void anUnknownCommandIsBadAndTheSessionGoesOn() {
        try (ImapTestClient client = connect()) {
            assertThat(client.command("FROBNICATE")).isEqualTo("BAD Unknown command");
            assertThat(client.command("NOOP")).isEqualTo("OK NOOP completed");
        }
        assertThat(backend.received()).isEmpty();
    }

    @Test
    void logoutSaysByeThenOkThenCloses() {
        try (ImapTestClient client = connect()) {
            client.send("z LOGOUT");
            assertThat(client.until("z")).containsExactly("* BYE Logging out", "z OK LOGOUT completed");
            assertThat(client.closedByServer()).isTrue();
        }
    }
}
