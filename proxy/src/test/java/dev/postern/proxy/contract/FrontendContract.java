package dev.postern.proxy.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Protocol;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.LineClient;
import dev.postern.testkit.TestTls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the contract tests of every front end share: per test class, one Postern in the test's JVM with one listener
 * in the class's {@link ListenerMode}, in front of one pool that holds the contract's fake backend, and clients on
 * real loopback sockets. Logins go to the backend (no auth provider is configured), so the backend's answer is the
 * login's answer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class FrontendContract {
    static final String USER = "alice@example.test";
    static final String PASSWORD = "alice-pw";
    static final String WRONG_PASSWORD = "not-alice-pw";
    private static final String LISTENER = "front";
    private static final String POOL = "fake";
    private static final Duration WAIT = Duration.ofSeconds(10);

    final ListenerMode mode;
    private final Protocol protocol;

    PosternHarness postern;
    FakeLineBackend backend;
    SSLContext clientTls;

    FrontendContract(Protocol protocol, ListenerMode mode) {
        this.protocol = protocol;
        this.mode = mode;
    }

    /** The fake backend of this protocol: it accepts {@link #USER} with {@link #PASSWORD}, and nothing else. */
    abstract FakeLineBackend.Builder backend();

    /** Whether the front end probes its pool at start (then the tests wait until the probe has learned). */
    abstract boolean probes();

    @BeforeAll
    void start(@TempDir Path dir) {
        backend = backend().start();
        clientTls = TestTls.localhost().clientContext();
        String yaml =
                """
                listeners:
                  - {name: %s, protocol: %s, bind: "127.0.0.1:%d", pool: %s, %s}
                pools:
                  - {name: %s, backends: [{address: "127.0.0.1:%d"}]}
                """
                                .formatted(
                                        LISTENER,
                                        protocol.name().toLowerCase(Locale.ROOT),
                                        FreePorts.next(),
                                        POOL,
                                        mode.options,
                                        POOL,
                                        backend.port())
                        + PosternHarness.tlsYaml(TestTls.localhost().write(dir));
        postern = PosternHarness.start(yaml, dir);
        if (probes()) {
            Await.until("the probe learned what the fake backend offers", WAIT, () -> postern.postern()
                    .services()
                    .capabilities()
                    .get(POOL, protocol)
                    .isPresent());
        }
    }

    @AfterAll
    void stop() {
        if (postern != null) {
            postern.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @BeforeEach
    void forgetTheBackendsPast() {
        backend.reset();
    }

    @AfterEach
    void everySessionEndsAndTheBackendWasNeverSurprised() {
        postern.awaitNoSessions();
        assertThat(backend.failure()).as("the fake backend failed").isNull();
    }

    int port() {
        return postern.port(LISTENER);
    }

    /** {@code client}, just connected, made ready to speak the protocol as the mode says. */
    <C extends LineClient> C opened(C client) {
        mode.open(client, clientTls);
        return client;
    }

    /** The lines of the backend connection on which a line matching {@code login} arrived. */
    List<String> backendConnectionWith(Predicate<String> login) {
        return Await.value("a login at the backend", WAIT, () -> backend.connections().stream()
                .map(FakeLineBackend.Connection::lines)
                .filter(lines -> lines.stream().anyMatch(login))
                .findFirst()
                .orElse(null));
    }

    /** No line matching {@code login} reached the backend (probes may have; they carry no credentials). */
    void assertNoLoginReachedTheBackend(Predicate<String> login) {
        assertThat(backend.received()).as("what reached the backend").noneMatch(login);
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static String authPlain(String user, String password) {
        return "AUTH PLAIN " + b64("\0" + user + "\0" + password);
    }

    /** Whether {@code line} is {@code AUTH PLAIN} with the right password, for any user (what the fakes accept). */
    static boolean isPlainWithThePassword(String line) {
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[1].equalsIgnoreCase("PLAIN")) {
            return false;
        }
        String message = new String(Base64.getDecoder().decode(parts[2]), StandardCharsets.UTF_8);
        return message.endsWith("\0" + USER + "\0" + PASSWORD);
    }
}
