package dev.postern.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.testkit.Await;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The load generator against the real Dovecot and Postfix of {@code scripts/dev-backends.sh}: a handful of sessions
 * per scenario and TLS mode (never a load run), each reply checked.
 */
class LoadGeneratorIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void backends() {
        DevBackends.ensureStarted();
    }

    private static JsonNode run(String scenario, int port, String tls, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                scenario, "--port", Integer.toString(port), "--tls", tls, "-c", "2", "-d", "30", "--timeout", "20"));
        args.addAll(List.of(more));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = LoadMain.run(
                args.toArray(String[]::new),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        return JSON.readTree(out.toString(StandardCharsets.UTF_8).trim());
    }

    private static void assertClean(JsonNode r, long ops) {
        assertThat(r.get("first_error").isNull()).as(r.toString()).isTrue();
        assertThat(r.get("errors").asLong()).isZero();
        assertThat(r.get("ops").asLong()).isEqualTo(ops);
    }

    @Test
    void imapLoginsOverImplicitTlsAndStartTls() throws Exception {
        assertClean(run("imap-login", DevBackends.IMAPS, "implicit", "--max-ops", "4"), 4);
        assertClean(run("imap-login", DevBackends.IMAP, "starttls", "--max-ops", "4"), 4);
        assertClean(run("imap-login", DevBackends.IMAP, "none", "--max-ops", "2"), 2);
    }

    @Test
    void aWrongPasswordIsCountedAsAnError() throws Exception {
        JsonNode r = run(
                "imap-login",
                DevBackends.IMAPS,
                "implicit",
                "--max-ops",
                "2",
                "--user",
                DevBackends.ALICE + ":not-" + DevBackends.ALICE_PASSWORD);
        assertThat(r.get("ops").asLong()).isZero();
        assertThat(r.get("errors").asLong()).isEqualTo(2);
        assertThat(r.get("first_error").asText()).startsWith("LOGIN: a1 NO");
    }

    @Test
    void imapFetchReadsWholeMessages() throws Exception {
        JsonNode r = run(
                "imap-fetch-big",
                DevBackends.IMAPS,
                "implicit",
                "--max-ops",
                "6",
                "--user",
                DevBackends.ALICE + ":" + DevBackends.ALICE_PASSWORD);
        assertClean(r, 6);
        assertThat(r.get("bytes").asLong()).isGreaterThan(6 * 50);
    }

    @Test
    void imapIdleSessionsAreHeld() throws Exception {
        JsonNode r = run("imap-idle", DevBackends.IMAPS, "implicit", "--sessions", "4", "-d", "0.5");
        assertClean(r, 4);
        assertThat(r.get("held").asLong()).isEqualTo(4);
    }

    @Test
    void pop3LoginsOverImplicitTlsAndStls() throws Exception {
        assertClean(run("pop3-login", DevBackends.POP3S, "implicit", "--max-ops", "3"), 3);
        assertClean(run("pop3-login", DevBackends.POP3, "starttls", "--max-ops", "3"), 3);
    }

    @Test
    void smtpSubmitDeliversTheMessage() throws Exception {
        String subject = "postern-load-it-" + UUID.randomUUID();
        JsonNode r = run(
                "smtp-submit",
                DevBackends.SUBMISSION,
                "starttls",
                "--max-ops",
                "1",
                "--subject",
                subject,
                "--rcpt",
                DevBackends.BOB);
        assertClean(r, 1);
        Await.until(
                "the submitted message in bob's INBOX",
                Duration.ofSeconds(60),
                () -> DevBackends.hasMessage(DevBackends.BOB, subject));
    }
}
