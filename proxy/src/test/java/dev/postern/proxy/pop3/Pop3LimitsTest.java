package dev.postern.proxy.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Pop3TestClient;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The POP3 front end's bounds over real sockets, with short limits: each one answers, then closes. */
class Pop3LimitsTest {
    @TempDir
    Path dir;

    private PosternHarness postern;

    /** Starts Postern with a pre-auth timeout of {@code preAuth}. */
    private void start(String preAuth) {
        postern = PosternHarness.start(
                """
                listeners:
                  - name: pop3
                    protocol: pop3
                    bind: "127.0.0.1:%d"
                    pool: p
                    allow-plaintext-auth: true
                    timeouts: {pre-auth: %s}
                    limits: {line-length: 512, sasl-line-length: 1KiB, bad-commands: 3, auth-failures: 2}
                pools:
                  - {name: p, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(FreePorts.next(), preAuth, FreePorts.closed()),
                dir);
    }

    @AfterEach
    void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private Pop3TestClient connect() {
        if (postern == null) {
            // long enough that a loaded machine never mistakes a slow test for an idle client
            start("60s");
        }
        Pop3TestClient client = Pop3TestClient.connect(postern.port("pop3"));
        assertThat(client.readLine()).isEqualTo("+OK Postern ready");
        return client;
    }

    @Test
    void anIdleClientIsToldAndDisconnected() {
        start("1s");
        try (Pop3TestClient client = connect()) {
            // the read blocks until Postern speaks: the pre-auth timeout, not a sleep, ends the wait
            assertThat(client.readLine()).isEqualTo("-ERR Disconnected for inactivity");
            assertThat(client.closedByServer()).isTrue();
        }
        postern.awaitNoSessions();
    }

    @Test
    void aTooLongLineIsToldAndDisconnected() {
        try (Pop3TestClient client = connect()) {
            client.send("USER " + "x".repeat(600));
            assertThat(client.readLine()).isEqualTo("-ERR Line too long");
            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void aTooLongSaslLineIsToldAndDisconnected() {
        try (Pop3TestClient client = connect()) {
            assertThat(client.command("AUTH PLAIN")).isEqualTo("+ ");
            // longer than a command may be, within the SASL bound: still a response
            assertThat(client.command("A".repeat(700))).startsWith("-ERR");
            assertThat(client.command("AUTH PLAIN")).isEqualTo("+ ");
            client.send("A".repeat(1100));
            assertThat(client.readLine()).isEqualTo("-ERR Line too long");
            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void tooManyBadCommandsDisconnect() {
        try (Pop3TestClient client = connect()) {
            assertThat(client.command("NOOP")).startsWith("-ERR");
            assertThat(client.command("LIST")).startsWith("-ERR");
            assertThat(client.command("RETR 1")).startsWith("-ERR Too many");
            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void aLoginWithNoBackendIsATemporaryError() {
        try (Pop3TestClient client = connect()) {
            assertThat(client.command("USER alice@example.test")).isEqualTo("+OK");
            assertThat(client.command("PASS alice-pw")).startsWith("-ERR [SYS/TEMP]");
            assertThat(client.command("CAPA")).startsWith("+OK");
        }
    }
}
