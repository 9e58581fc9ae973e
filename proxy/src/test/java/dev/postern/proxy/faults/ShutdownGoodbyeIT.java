package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.testkit.Await;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code SIGTERM} to a Postern process with clients connected that have not logged in yet: when the shutdown grace
 * ends, each hears its protocol's goodbye before the connection closes (an IMAP client {@code * BYE [UNAVAILABLE]},
 * a POP3 client {@code -ERR [SYS/TEMP]}, a ManageSieve client {@code BYE (TRYLATER)}), so it reports a server going
 * away; a session already relayed to Dovecot just closes.
 */
class ShutdownGoodbyeIT {
    private static final String CLIENT =
            """
            import imaplib, socket, sys
            port, login = int(sys.argv[1]), sys.argv[2] == "login"
            if login:
                m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
                m.login("alice@example.test", "alice-pw")
                m.select("INBOX")
                s = m.sock
            else:
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                s.recv(4096)
            print("ready", flush=True)
            heard = b""
            while True:
                try:
                    chunk = s.recv(4096)
                except OSError as e:
                    print("error:", e, flush=True)
                    break
                if not chunk:
                    break
                heard += chunk
            print("heard:", heard.decode().strip() or "(nothing)", flush=True)
            """;

    @TempDir
    static Path dir;

    @BeforeAll
    static void backends() {
        DevBackends.ensureStarted();
    }

    @Test
    void clientsNotLoggedInHearTheirProtocolsGoodbyeAndRelayedOnesAClose() throws Exception {
        int imap = FreePorts.next();
        int pop3 = FreePorts.next();
        int sieve = FreePorts.next();
        String yaml =
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: imap}
                  - {name: pop3, protocol: pop3, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: pop3}
                  - {name: sieve, protocol: managesieve, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: sieve}
                pools:
                  - {name: imap, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: pop3, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: sieve, backends: [{address: "127.0.0.1:%d"}]}
                timeouts: {shutdown-grace: 2s}
                """
                        .formatted(imap, pop3, sieve, DevBackends.IMAP, DevBackends.POP3, DevBackends.SIEVE);
        try (PosternProcess postern = PosternProcess.start(dir, yaml, List.of(), "imap", "pop3", "sieve")) {
            List<List<String>> said = List.of(
                    new CopyOnWriteArrayList<>(),
                    new CopyOnWriteArrayList<>(),
                    new CopyOnWriteArrayList<>(),
                    new CopyOnWriteArrayList<>());
            List<Process> clients = List.of(
                    client(imap, "pre-auth", said.get(0)),
                    client(pop3, "pre-auth", said.get(1)),
                    client(sieve, "pre-auth", said.get(2)),
                    client(imap, "login", said.get(3)));
            try {
                for (List<String> s : said) {
                    Await.until("every client connected", Duration.ofSeconds(20), () -> s.contains("ready"));
                }
                postern.terminate();
                for (Process c : clients) {
                    assertThat(c.waitFor(30, TimeUnit.SECONDS)).isTrue();
                }
                for (List<String> s : said) {
                    Await.until("every client's last line", Duration.ofSeconds(5), () -> s.size() >= 2);
                }
                System.out.printf("shutdown goodbyes: %s%n", said);
                assertThat(said.get(0))
                        .anyMatch(l -> l.endsWith("* BYE [UNAVAILABLE] Server shutting down; try again later"));
                assertThat(said.get(1))
                        .anyMatch(l -> l.endsWith("-ERR [SYS/TEMP] Server shutting down; try again later"));
                assertThat(said.get(2))
                        .anyMatch(l -> l.endsWith("BYE (TRYLATER) \"Server shutting down; try again later\""));
                assertThat(said.get(3)).noneMatch(l -> l.contains("BYE [UNAVAILABLE]"));
                assertThat(postern.exited(Duration.ofSeconds(15))).isTrue();
            } finally {
                clients.forEach(Process::destroyForcibly);
            }
        }
    }

    private static Process client(int port, String mode, List<String> said) throws Exception {
        Process p = new ProcessBuilder("python3", "-c", CLIENT, String.valueOf(port), mode)
                .redirectErrorStream(true)
                .start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    said.add(line);
                }
            } catch (java.io.IOException ignored) {
                // ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        return p;
    }
}
