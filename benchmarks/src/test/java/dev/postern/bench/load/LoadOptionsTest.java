package dev.postern.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class LoadOptionsTest {
    @Test
    void defaultsAreTheDocumentedOnes() {
        LoadOptions o = LoadOptions.parse(new String[] {"imap-login", "--port", "993"});
        assertThat(o.scenario()).isEqualTo(Scenario.IMAP_LOGIN);
        assertThat(o.host()).isEqualTo("127.0.0.1");
        assertThat(o.tls()).isEqualTo(TlsMode.IMPLICIT);
        assertThat(o.tlsVersion()).isEqualTo("TLSv1.3");
        assertThat(o.concurrency()).isEqualTo(32);
        assertThat(o.duration()).isEqualTo(Duration.ofSeconds(10));
        assertThat(o.users()).hasSize(2);
        assertThat(o.user(0).user()).isEqualTo("alice@example.test");
        assertThat(o.user(3).user()).isEqualTo("bob@example.test");
    }

    @Test
    void readsEveryOption() {
        LoadOptions o = LoadOptions.parse(new String[] {
            "smtp-submit",
            "--host",
            "localhost",
            "--port",
            "2587",
            "--tls",
            "starttls",
            "-c",
            "4",
            "-d",
            "1.5",
            "--max-ops",
            "9",
            "--users",
            "u1@x:p1,u2@x:p:w",
            "--rcpt",
            "r@x",
            "--message-size",
            "2048",
            "--threads",
            "2",
            "--timeout",
            "3",
            "--label",
            "direct"
        });
        assertThat(o.scenario()).isEqualTo(Scenario.SMTP_SUBMIT);
        assertThat(o.tls()).isEqualTo(TlsMode.STARTTLS);
        assertThat(o.duration()).isEqualTo(Duration.ofMillis(1500));
        assertThat(o.maxOps()).isEqualTo(9);
        assertThat(o.users()).extracting(LoadOptions.Credentials::password).containsExactly("p1", "p:w");
        assertThat(o.messageSize()).isEqualTo(2048);
        assertThat(o.timeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(o.label()).isEqualTo("direct");
    }

    @Test
    void aimsAtThisMachineOnly() {
        assertThatThrownBy(() -> LoadOptions.parse(new String[] {"imap-login", "--host", "10.0.0.1", "--port", "1"}))
                .hasMessageContaining("loopback");
    }

    @Test
    void refusesWhatItDoesNotKnow() {
        assertThatThrownBy(() -> LoadOptions.parse(new String[] {"imap-logout", "--port", "1"}))
                .hasMessageContaining("unknown scenario 'imap-logout'");
        assertThatThrownBy(() -> LoadOptions.parse(new String[] {"imap-login"})).hasMessageContaining("--port");
        assertThatThrownBy(() -> LoadOptions.parse(new String[] {"imap-login", "--port", "1", "--tls", "ssl"}))
                .hasMessageContaining("unknown TLS mode");
        assertThatThrownBy(() -> LoadOptions.parse(new String[] {"imap-login", "--port", "99999"}))
                .hasMessageContaining("99999");
        assertThatThrownBy(() -> LoadOptions.parse(new String[] {"imap-login", "--port", "1", "--bogus", "x"}))
                .hasMessageContaining("unknown option --bogus");
    }

    @Test
    void aUserWithoutPasswordIsRefusedWithoutEchoingIt() {
        assertThatThrownBy(() -> LoadOptions.parse(new String[] {"imap-login", "--port", "1", "--user", "alice"}))
                .hasMessageContaining("USER:PASSWORD");
    }
}
