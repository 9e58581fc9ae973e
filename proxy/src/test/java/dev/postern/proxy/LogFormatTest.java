package dev.postern.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.ImapTestClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The two log formats on a real session through Postern (a fake IMAP backend decides the logins): the JSON format
 * writes one object a line with the session line's facts as fields, the text format the line it always had, and
 * neither holds a password, in plain or as its SASL base64, even at DEBUG.
 */
class LogFormatTest {
    private static final String PASSWORD = "Tr0ub4dor-never-in-a-log";
    private static final String WRONG_PASSWORD = "Wr0ng-also-never-in-a-log";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    private final Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    private final Logger postern = context.getLogger("dev.postern");
    private final Level posternLevel = postern.getLevel();
    private final ByteArrayOutputStream textOut = new ByteArrayOutputStream();
    private final ByteArrayOutputStream jsonOut = new ByteArrayOutputStream();
    private final List<OutputStreamAppender<ILoggingEvent>> appenders = new ArrayList<>();

    @BeforeEach
    void captureBothFormats() {
        postern.setLevel(Level.DEBUG); // secrets stay out of the debug lines too
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{0}: %msg%n"); // LogSetup.PATTERN without the date
        text.start();
        appenders.add(appender("text", textOut));
        appenders.get(0).setEncoder(text);
        appenders.get(0).start();
        OutputStreamAppender<ILoggingEvent> json = appender("json", jsonOut);
        LogOutput.writeJson(json);
        json.start();
        appenders.add(json);
        appenders.forEach(root::addAppender);
    }

    private OutputStreamAppender<ILoggingEvent> appender(String name, ByteArrayOutputStream out) {
        OutputStreamAppender<ILoggingEvent> a = new OutputStreamAppender<>();
        a.setContext(context);
        a.setName(name);
        a.setOutputStream(out);
        return a;
    }

    @AfterEach
    void restore() {
        appenders.forEach(a -> {
            root.detachAppender(a);
            a.stop();
        });
        postern.setLevel(posternLevel);
    }

    @Test
    void aSessionLineIsOneJsonObjectWithItsFactsAsFieldsAndTheTextLineIsUnchanged() throws Exception {
        runOneSession();

        JsonNode line = sessionLine();
        assertThat(line.get("level").asText()).isEqualTo("INFO");
        assertThat(line.get("logger_name").asText()).isEqualTo("postern.session");
        assertThat(line.get("@timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*");
        assertThat(line.get("listener").asText()).isEqualTo("imap");
        assertThat(line.get("protocol").asText()).isEqualTo("imap");
        assertThat(line.get("client").asText()).startsWith("127.0.0.1:");
        assertThat(line.get("pool").asText()).isEqualTo("fake");
        assertThat(line.get("backend").asText()).isNotEmpty();
        assertThat(line.get("user").asText()).isEqualTo("alice");
        assertThat(line.get("reason").asText()).as(line.toString()).isEqualTo("client-closed");
        assertThat(line.get("bytes_in").isIntegralNumber()).isTrue();
        assertThat(line.get("bytes_in").asLong()).isPositive();
        assertThat(line.get("bytes_out").asLong()).isPositive();
        assertThat(line.get("duration_ms").isIntegralNumber()).isTrue();
        assertThat(line.has("tls")).as("no TLS on this listener").isFalse();
        assertThat(line.has("@version")).isFalse();

        String session = line.get("session").asText();
        String textLine = textOut.toString(StandardCharsets.UTF_8)
                .lines()
                .filter(l -> l.contains("session " + session + " closed:"))
                .findFirst()
                .orElseThrow();
        // the text format is the line it was before JSON existed: the message, no key-value pairs after it
        assertThat(textLine)
                .endsWith("session " + session + " closed: listener=imap client="
                        + line.get("client").asText()
                        + " backend=fake/" + line.get("backend").asText() + " user=alice tls=- reason=client-closed"
                        + " duration=" + line.get("duration_ms").asLong() + "ms in="
                        + line.get("bytes_in").asLong()
                        + " out=" + line.get("bytes_out").asLong());
        assertThat(line.get("message").asText()).isEqualTo(textLine.substring(textLine.indexOf("session ")));
    }

    @Test
    void neitherFormatHoldsAPasswordInPlainOrInBase64() throws Exception {
        runOneSession();

        String text = textOut.toString(StandardCharsets.UTF_8);
        String json = jsonOut.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("user=alice");
        assertThat(json).contains("\"user\":\"alice\"");
        for (String secret : List.of(
                PASSWORD,
                WRONG_PASSWORD,
                Base64.getEncoder().encodeToString(("\0alice\0" + PASSWORD).getBytes(StandardCharsets.UTF_8)))) {
            assertThat(text).doesNotContain(secret);
            assertThat(json).doesNotContain(secret);
        }
    }

    @Test
    void theFormatIsNamedTextOrJsonAndNothingElse() {
        assertThat(LogFormat.named("json")).contains(LogFormat.JSON);
        assertThat(LogFormat.named("TEXT")).contains(LogFormat.TEXT);
        assertThat(LogFormat.named("yaml")).isEmpty();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(
                new String[] {"--log-format", "yaml", "--check", "--config", "x.yaml"},
                new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("log format 'yaml' is neither text nor json");
    }

    /**
     * One client session: a refused LOGIN, then AUTHENTICATE PLAIN with an initial response that the backend
     * accepts (Postern logs in to it with LOGIN either way), a NOOP relayed, and a LOGOUT the backend answers by
     * hanging up.
     */
    private void runOneSession() throws Exception {
        try (FakeLineBackend backend = FakeLineBackend.builder()
                        .greeting("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] fake")
                        .tagged()
                        .on(
                                "LOGIN",
                                (c, l) -> c.send(c.tagOf(l)
                                        + (l.contains(PASSWORD) ? " OK [CAPABILITY IMAP4rev1] in" : " NO bad")))
                        .on("AUTHENTICATE", (c, l) -> c.send(c.tagOf(l) + " OK [CAPABILITY IMAP4rev1] in"))
                        .on("NOOP", (c, l) -> c.send(c.tagOf(l) + " OK noop"))
                        .on("LOGOUT", (c, l) -> c.sendAndClose("* BYE", c.tagOf(l) + " OK bye"))
                        .start();
                PosternHarness harness = PosternHarness.start(
                        """
                        listeners:
                          - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: fake}
                        pools:
                          - {name: fake, backends: [{address: "127.0.0.1:%d"}]}
                        auth:
                          throttle: off
                        """
                                .formatted(FreePorts.next(), backend.port()),
                        dir)) {
            try (ImapTestClient client = ImapTestClient.connect(harness.port("imap"))) {
                assertThat(client.line()).startsWith("* OK");
                assertThat(client.login("alice", WRONG_PASSWORD)).startsWith("NO");
                String plain =
                        Base64.getEncoder().encodeToString(("\0alice\0" + PASSWORD).getBytes(StandardCharsets.UTF_8));
                assertThat(client.command("AUTHENTICATE PLAIN " + plain)).contains("OK");
                assertThat(client.command("NOOP")).contains("OK noop");
                assertThat(client.command("LOGOUT")).contains("OK bye");
                // the backend hung up: Postern passes the half-close on and the client, seeing it, closes
                assertThat(client.line()).as("the connection closed").isNull();
            }
            harness.awaitNoSessions();
            Await.until(
                    "the session line in both formats",
                    Duration.ofSeconds(10),
                    () -> jsonOut.toString(StandardCharsets.UTF_8).contains("\"logger_name\":\"postern.session\"")
                            && textOut.toString(StandardCharsets.UTF_8).contains(" closed: "));
        }
    }

    /** Every JSON line parses; the one of the session logger is returned. */
    private JsonNode sessionLine() throws Exception {
        JsonNode found = null;
        for (String l : jsonOut.toString(StandardCharsets.UTF_8).lines().toList()) {
            JsonNode node = JSON.readTree(l);
            assertThat(node.isObject()).as(l).isTrue();
            if (node.get("logger_name").asText().equals("postern.session")) {
                found = node;
            }
        }
        assertThat(found).as("a session line").isNotNull();
        return found;
    }
}
