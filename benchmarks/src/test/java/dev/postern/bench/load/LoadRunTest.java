package dev.postern.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.postern.testkit.TestTls;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Whole runs against a scripted server in this JVM: good answers count as ops, wrong ones as errors. */
class LoadRunTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String[] plain(String scenario, String... more) {
        List<String> a = new ArrayList<>(List.of(scenario, "--tls", "none", "-c", "2", "-d", "5"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    private static JsonNode runScenario(FakeImapServer server, String... args) throws Exception {
        // defaults first: the test's own options come later and win
        List<String> all =
                new ArrayList<>(List.of(args[0], "--port", Integer.toString(server.port()), "--timeout", "5"));
        all.addAll(List.of(args).subList(1, args.length));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = LoadMain.run(
                all.toArray(String[]::new),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertThat(code).isZero();
        return JSON.readTree(out.toString(StandardCharsets.UTF_8).trim());
    }

    @Test
    void goodSessionsAreCountedWithLatencies() throws Exception {
        try (FakeImapServer server = new FakeImapServer(FakeImapServer.Behaviour.GOOD, null)) {
            JsonNode r = runScenario(server, plain("imap-login", "--max-ops", "20"));
            assertThat(r.get("ops").asLong()).isEqualTo(20);
            assertThat(r.get("errors").asLong()).isZero();
            assertThat(r.get("first_error").isNull()).isTrue();
            assertThat(r.get("latency_ms").get("max").asDouble())
                    .isGreaterThanOrEqualTo(r.get("latency_ms").get("p50").asDouble())
                    .isGreaterThan(0);
            assertThat(server.logins.get()).isEqualTo(20);
        }
    }

    @Test
    void aWrongTagIsAnError() throws Exception {
        try (FakeImapServer server = new FakeImapServer(FakeImapServer.Behaviour.WRONG_TAG_ON_LOGIN, null)) {
            JsonNode r = runScenario(server, plain("imap-login", "--max-ops", "3"));
            assertThat(r.get("ops").asLong()).isZero();
            assertThat(r.get("errors").asLong()).isEqualTo(3);
            assertThat(r.get("first_error").asText()).isEqualTo("LOGIN: zz9 OK logged in");
        }
    }

    @Test
    void aNoIsAnError() throws Exception {
        try (FakeImapServer server = new FakeImapServer(FakeImapServer.Behaviour.NO_ON_LOGIN, null)) {
            JsonNode r = runScenario(server, plain("imap-login", "--max-ops", "2"));
            assertThat(r.get("ops").asLong()).isZero();
            assertThat(r.get("errors").asLong()).isEqualTo(2);
            assertThat(r.get("first_error").asText()).startsWith("LOGIN: a1 NO [AUTHENTICATIONFAILED]");
        }
    }

    @Test
    void aShortLiteralIsAnError() throws Exception {
        try (FakeImapServer server = new FakeImapServer(FakeImapServer.Behaviour.SHORT_LITERAL, null)) {
            JsonNode r = runScenario(server, plain("imap-fetch-big", "--max-ops", "2", "-c", "1", "-d", "0.5"));
            assertThat(r.get("ops").asLong()).isZero();
            assertThat(r.get("errors").asLong()).isGreaterThanOrEqualTo(1);
            assertThat(r.get("first_error").asText())
                    .isEqualTo("connection closed by the server waiting for FETCH (in a literal)");
        }
    }

    @Test
    void aClosedConnectionIsAnError() throws Exception {
        try (FakeImapServer server = new FakeImapServer(FakeImapServer.Behaviour.CLOSE_AFTER_GREETING, null)) {
            JsonNode r = runScenario(server, plain("imap-login", "--max-ops", "2", "-c", "1"));
            assertThat(r.get("errors").asLong()).isEqualTo(2);
            assertThat(r.get("first_error").asText()).isEqualTo("connection closed by the server waiting for LOGIN");
        }
    }

    @Test
    void fetchBigCountsBytesAndChecksTheSize() throws Exception {
        try (FakeImapServer server = new FakeImapServer(FakeImapServer.Behaviour.GOOD, null)) {
            JsonNode good = runScenario(
                    server,
                    plain("imap-fetch-big", "--max-ops", "10", "--expect-bytes", "" + FakeImapServer.MESSAGE_SIZE));
            assertThat(good.get("ops").asLong()).isEqualTo(10);
            assertThat(good.get("bytes").asLong()).isEqualTo(10L * FakeImapServer.MESSAGE_SIZE);
            assertThat(good.get("errors").asLong()).isZero();

            JsonNode wrong = runScenario(server, plain("imap-fetch-big", "--max-ops", "3", "--expect-bytes", "4999"));
            assertThat(wrong.get("ops").asLong()).isZero();
            assertThat(wrong.get("first_error").asText()).isEqualTo("FETCH returned 5000 bytes, expected 4999");
        }
    }

    @Test
    void idleSessionsAreOpenedHeldAndReleased() throws Exception {
        try (FakeImapServer server = new FakeImapServer(FakeImapServer.Behaviour.GOOD, null)) {
            JsonNode r = runScenario(server, "imap-idle", "--tls", "none", "--sessions", "25", "-c", "5", "-d", "0.2");
            assertThat(r.get("ops").asLong()).isEqualTo(25);
            assertThat(r.get("held").asLong()).isEqualTo(25);
            assertThat(r.get("errors").asLong()).isZero();
        }
    }

    @Test
    void implicitTlsSessionsHandshakeFirst() throws Exception {
        try (FakeImapServer server = new FakeImapServer(
                FakeImapServer.Behaviour.GOOD, TestTls.localhost().serverContext())) {
            JsonNode r = runScenario(server, "imap-login", "--tls", "implicit", "-c", "2", "--max-ops", "6");
            assertThat(r.get("ops").asLong()).isEqualTo(6);
            assertThat(r.get("errors").asLong()).isZero();
            assertThat(r.get("tls").asText()).isEqualTo("implicit");

            JsonNode plainToTls =
                    runScenario(server, plain("imap-login", "--max-ops", "1", "-c", "1", "--timeout", "0.5"));
            assertThat(plainToTls.get("errors").asLong()).isEqualTo(1);
            assertThat(plainToTls.get("first_error").asText()).startsWith("timeout after 500 ms waiting for greeting");
        }
    }

    @Test
    void usageErrorsExitWithOne() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = LoadMain.run(
                new String[] {"imap-login"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("--port is required")
                .contains("usage:");
    }
}
