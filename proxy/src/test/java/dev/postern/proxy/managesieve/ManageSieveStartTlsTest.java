package dev.postern.proxy.managesieve;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.LineClient;
import dev.postern.testkit.TestTls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Postern on loopback between a socket client and a scripted ManageSieve backend: STARTTLS that never runs
 * what was pipelined after it, the capability response after the handshake, and a login relayed to the backend.
 */
class ManageSieveStartTlsTest {
    private static final String SIEVE = "\"SIEVE\" \"fileinto vacation\"";

    @TempDir
    Path dir;

    private PosternHarness start(TestTls tls, String listener, int backendPort) {
        String yaml =
                """
                listeners:
                  - {name: sieve, protocol: managesieve, bind: "127.0.0.1:%d", pool: p, %s}
                pools:
                  - {name: p, backends: [{address: "127.0.0.1:%d"}]}
                """
                                .formatted(FreePorts.next(), listener, backendPort)
                        + PosternHarness.tlsYaml(tls.write(dir));
        return PosternHarness.start(yaml, dir);
    }

    /** Reads a capability response up to and including its status line. */
    private static List<String> response(LineClient client) {
        List<String> lines = new ArrayList<>();
        String line;
        do {
            line = client.readLine();
            assertThat(line).as("a line after %s", lines).isNotNull();
            lines.add(line);
        } while (line.startsWith("\""));
        return lines;
    }

    @Test
    void bytesPipelinedAfterStartTlsCloseTheConnectionByDefault() {
        TestTls tls = TestTls.localhost();
        try (PosternHarness postern = start(tls, "tls: starttls", FreePorts.closed());
                LineClient client = LineClient.connect(postern.port("sieve"))) {
            assertThat(response(client)).contains("\"STARTTLS\"", "\"SASL\" \"\"");
            client.write("STARTTLS\r\nAUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\n");
            // neither the go-ahead nor an answer to AUTHENTICATE: the connection just ends
            assertThat(client.readLine()).isNull();
            postern.awaitNoSessions();
        }
    }

    @Test
    void bytesPipelinedAfterStartTlsAreDroppedWhenThePolicySaysDiscardAndCapabilitiesFollowTheHandshake() {
        TestTls tls = TestTls.localhost();
        try (PosternHarness postern = start(tls, "tls: starttls, starttls-pipelining: discard", FreePorts.closed());
                LineClient client = LineClient.connect(postern.port("sieve"))) {
            response(client);
            client.write("STARTTLS\r\nLOGOUT\r\n");
            assertThat(client.readLine()).isEqualTo("OK \"Begin TLS negotiation now.\"");
            client.startTls(tls.clientContext());
            // RFC 5804 section 2.2: capabilities first, without STARTTLS, now with the mechanisms; LOGOUT never ran
            List<String> after = response(client);
            assertThat(after)
                    .contains("\"SASL\" \"PLAIN LOGIN XOAUTH2 OAUTHBEARER\"")
                    .doesNotContain("\"STARTTLS\"")
                    .last()
                    .isEqualTo("OK \"TLS negotiation successful.\"");
            client.send("NOOP");
            assertThat(client.readLine()).isEqualTo("OK \"NOOP completed.\"");
            client.send("STARTTLS");
            assertThat(client.readLine()).isEqualTo("NO \"TLS is already active.\"");
        }
    }

    @Test
    void aLoginIsRelayedToTheBackendWithPipelinedCommandsAndTheGreetingShowsItsExtensions() throws Exception {
        TestTls tls = TestTls.localhost();
        try (FakeLineBackend backend = FakeLineBackend.builder()
                        .greeting("\"IMPLEMENTATION\" \"Fake\"", SIEVE, "\"SASL\" \"PLAIN\"", "OK \"Fake ready.\"")
                        .on("AUTHENTICATE", "OK \"Logged in.\"")
                        .on("LISTSCRIPTS", "\"main\" ACTIVE", "OK \"Listscripts completed.\"")
                        .on("LOGOUT", (c, line) -> c.sendAndClose("OK \"Bye.\""))
                        .otherwise("NO \"What?\"")
                        .start();
                PosternHarness postern = start(tls, "allow-plaintext-auth: true", backend.port())) {
            // the probe at start learns the backend's Sieve extensions for the greeting
            Await.until("the greeting lists the backend's SIEVE", Duration.ofSeconds(10), () -> {
                try (LineClient c = LineClient.connect(postern.port("sieve"))) {
                    return response(c).contains(SIEVE);
                }
            });
            try (LineClient client = LineClient.connect(postern.port("sieve"))) {
                response(client);
                String plain = Base64.getEncoder()
                        .encodeToString("\0alice@example.test\0alice-pw".getBytes(StandardCharsets.UTF_8));
                client.write("AUTHENTICATE \"PLAIN\" \"" + plain + "\"\r\nLISTSCRIPTS\r\nLOGOUT\r\n");
                assertThat(client.readLine()).isEqualTo("OK \"Logged in.\"");
                assertThat(client.readLine()).isEqualTo("\"main\" ACTIVE");
                assertThat(client.readLine()).isEqualTo("OK \"Listscripts completed.\"");
                assertThat(client.readLine()).isEqualTo("OK \"Bye.\"");
                assertThat(client.closedByServer()).isTrue();
            }
            List<String> login = backend.connections().stream()
                    .map(FakeLineBackend.Connection::lines)
                    .filter(lines -> lines.contains("LISTSCRIPTS"))
                    .findFirst()
                    .orElseThrow();
            assertThat(login).containsExactly("AUTHENTICATE \"PLAIN\" \"" + plain() + "\"", "LISTSCRIPTS", "LOGOUT");
        }
    }

    private static String plain() {
        return Base64.getEncoder().encodeToString("\0alice@example.test\0alice-pw".getBytes(StandardCharsets.UTF_8));
    }
}
