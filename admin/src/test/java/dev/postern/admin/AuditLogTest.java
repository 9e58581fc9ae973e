package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Every write leaves one line on {@code postern.audit}: who (token name), what, revisions, result. */
class AuditLogTest {
    private final AdminFixture admin = AdminFixture.start();
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final Logger audit = (Logger) LoggerFactory.getLogger("postern.audit");

    @BeforeEach
    void capture() {
        lines.start();
        audit.addAppender(lines);
    }

    @AfterEach
    void stop() {
        audit.detachAppender(lines);
        admin.close();
    }

    private java.util.List<String> messages() {
        return lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aChangeIsLoggedWithTheTokenNameAndBothRevisions() {
        admin.send("PUT", "/api/v1/routes/domains/example.com", "{\"pool\": \"postfix\"}");

        assertThat(messages())
                .containsExactly("token=ops action=PUT /api/v1/routes/domains/example.com revision=1->2 result=200");
        assertThat(lines.list.get(0).getLevel()).isEqualTo(ch.qos.logback.classic.Level.INFO);
    }

    @Test
    void refusedAndFailedWritesAreLoggedToo() {
        admin.send("DELETE", "/api/v1/pools/postfix", AdminFixture.VIEWER_TOKEN, null);
        admin.send("DELETE", "/api/v1/pools/postfix", "not-a-token-at-all-xxxxxxxx", null);
        admin.send("DELETE", "/api/v1/pools/dovecot", null);
        admin.send("POST", "/api/v1/tls/reload", null);
        admin.send("DELETE", "/api/v1/sessions?user=bob%40example.com", null);

        assertThat(messages())
                .containsExactly(
                        "token=viewer action=DELETE /api/v1/pools/postfix revision=1->1 result=403",
                        "token=- action=DELETE /api/v1/pools/postfix revision=1->1 result=401",
                        "token=ops action=DELETE /api/v1/pools/dovecot revision=1->1 result=409",
                        "token=ops action=POST /api/v1/tls/reload revision=1->1 result=200",
                        "token=ops action=DELETE /api/v1/sessions?user=bob%40example.com revision=1->1 result=200");
    }

    @Test
    void readsAreNotAudited() {
        admin.get("/api/v1/pools");
        admin.get("/api/v1/sessions");

        assertThat(messages()).isEmpty();
    }

    @Test
    void noTokenEverReachesTheLog() {
        admin.send("PUT", "/api/v1/routes/default", "{\"pool\": \"postfix\"}");
        admin.send("PUT", "/api/v1/routes/default", "wrong-token-0123456789abcd", "{\"pool\": \"postfix\"}");

        assertThat(String.join("\n", messages()))
                .doesNotContain(AdminFixture.OPS_TOKEN)
                .doesNotContain("wrong-token");
    }
}
