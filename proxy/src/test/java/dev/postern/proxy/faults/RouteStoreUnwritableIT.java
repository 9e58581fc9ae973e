package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The route store's directory made unwritable under a running Postern ({@code chattr +i}, which holds for root too):
 * an admin write (curl) fails with a 500 problem and changes nothing, the file on disk and the live table stay as
 * they were (logins still routed), and once the directory is writable again the same write applies.
 */
class RouteStoreUnwritableIT {
    private static final String TOKEN = "faults-it-read-write-token-0123";

    @TempDir
    Path dir;

    private Path store;
    private PosternHarness postern;
    private int adminPort;

    @BeforeEach
    void start() throws Exception {
        DevBackends.ensureStarted();
        store = dir.resolve("state");
        Files.createDirectories(store);
        adminPort = FreePorts.next();
        String yaml =
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: p1}
                pools:
                  - {name: p1, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: p2, backends: [{address: "127.0.0.1:%d"}]}
                routing:
                  file: state/routes.json
                admin:
                  bind: "127.0.0.1:%d"
                  tokens: [{name: ops, token: "%s", access: read-write}]
                """
                        .formatted(FreePorts.next(), DevBackends.IMAP, DevBackends.IMAP, adminPort, TOKEN);
        postern = PosternHarness.start(yaml, dir);
    }

    @AfterEach
    void stop() {
        Processes.run(Duration.ofSeconds(10), "chattr", "-i", store.toString());
        if (postern != null) {
            postern.close();
        }
    }

    private Processes.Result curl(String method, String path, String body) {
        return Processes.run(
                Duration.ofSeconds(30),
                "curl",
                "-sS",
                "-X",
                method,
                "-w",
                "\nstatus=%{http_code}",
                "-H",
                "Authorization: Bearer " + TOKEN,
                "-H",
                "Content-Type: application/json",
                "--data",
                body,
                "http://127.0.0.1:" + adminPort + path);
    }

    private String imapLogin() {
        Processes.Result r = Processes.python(
                Duration.ofSeconds(30),
                "import imaplib, sys\nm = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]), timeout=20)\n"
                        + "print(m.login('alice@example.test', 'alice-pw')[0]); m.logout()",
                String.valueOf(postern.port("imap")));
        return r.stdout().trim();
    }

    @Test
    void aWriteToAnUnwritableStoreFailsCleanlyAndTheOldFileAndTableStay() throws Exception {
        Path file = store.resolve("routes.json");
        String before = Files.readString(file);
        Processes.Result lock = Processes.run(Duration.ofSeconds(10), "chattr", "+i", store.toString());
        assertThat(lock.exitCode()).as(lock.toString()).isZero();

        Processes.Result refused = curl("PUT", "/api/v1/routes/users/alice@example.test", "{\"pool\": \"p2\"}");

        assertThat(refused.stdout())
                .contains("status=500")
                .contains("the change could not be saved; nothing was changed");
        assertThat(Files.readString(file)).isEqualTo(before);
        assertThat(postern.postern().routeStore().current().revision()).isEqualTo(1);
        assertThat(Files.list(store).map(p -> p.getFileName().toString())).containsExactly("routes.json");
        assertThat(imapLogin()).isEqualTo("OK");

        Processes.run(Duration.ofSeconds(10), "chattr", "-i", store.toString());
        Processes.Result applied = curl("PUT", "/api/v1/routes/users/alice@example.test", "{\"pool\": \"p2\"}");

        assertThat(applied.stdout()).contains("status=201");
        assertThat(Files.readString(file)).contains("\"alice@example.test\" : \"p2\"");
    }
}
