package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.ImapTestClient;
import dev.postern.testkit.Pace;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slowloris against an IMAP listener: 20 addresses (127.0.0.10-29) open 55 connections each and trickle a byte
 * every half second, never finishing a command. The per-address pre-auth limit closes the 5 extra of each at once,
 * the pre-auth timeout ends the other 1000, and meanwhile a normal login from another address (127.0.0.1) to Dovecot
 * stays fast. Prints the JVM's RSS (Postern runs in it) and the logins' latency.
 */
class SlowlorisIT {
    private static final int ADDRESSES = 20;
    private static final int PER_ADDRESS = 55;

    @TempDir
    static Path dir;

    private static final ClosedSessions metrics = new ClosedSessions();
    private static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        String yaml =
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: dovecot,
                     timeouts: {pre-auth: 4s}}
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(FreePorts.next(), DevBackends.IMAP);
        postern = PosternHarness.start(yaml, dir, metrics);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private static long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /** True when the server closed {@code s} (what it sent before, the greeting, is drained). */
    private static boolean closedByServer(Socket s) {
        try {
            s.setSoTimeout(1);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[512];
            while (true) {
                if (in.read(buf) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static long loginMillis() {
        long t = System.nanoTime();
        try (ImapTestClient c = ImapTestClient.connect(postern.port("imap"))) {
            assertThat(c.login(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)).startsWith("OK");
        }
        return (System.nanoTime() - t) / 1_000_000;
    }

    @Test
    void tricklingConnectionsAreBoundedAndEndWhileOthersLogInFast() throws Exception {
        long rssBefore = rssKib();
        long idleLogin = loginMillis();
        List<Socket> trickling = new ArrayList<>();
        try {
            for (int a = 0; a < ADDRESSES; a++) {
                InetAddress source = InetAddress.getByName("127.0.0." + (10 + a));
                for (int i = 0; i < PER_ADDRESS; i++) {
                    Socket s = new Socket();
                    s.bind(new InetSocketAddress(source, 0));
                    s.connect(new InetSocketAddress("127.0.0.1", postern.port("imap")), 5000);
                    trickling.add(s);
                }
            }
            Await.until(
                    "the connections over the per-address limit are refused",
                    Duration.ofSeconds(10),
                    () -> metrics.refused.size() >= ADDRESSES * (PER_ADDRESS - 50));
            List<Long> logins = new ArrayList<>();
            long rssDuring = 0;
            long floodStart = System.nanoTime();
            int round = 0;
            Pace pace = Pace.every(Duration.ofMillis(500)); // the attacker's
            while (System.nanoTime() - floodStart < 3_000_000_000L) {
                for (Socket s : trickling) {
                    try {
                        s.getOutputStream().write(round == 0 ? 'a' : 'b');
                    } catch (IOException e) {
                        // closed by the server: nothing more to trickle
                    }
                }
                round++;
                logins.add(loginMillis());
                rssDuring = Math.max(rssDuring, rssKib());
                pace.awaitTick();
            }
            System.out.printf(
                    "slowloris: %d connections from %d addresses; refused at once %d; RSS %d -> %d KiB;"
                            + " login %d ms idle, %s ms under the flood%n",
                    trickling.size(), ADDRESSES, metrics.refused.size(), rssBefore, rssDuring, idleLogin, logins);
            assertThat(metrics.refused)
                    .hasSize(ADDRESSES * (PER_ADDRESS - 50))
                    .allMatch(r -> r.endsWith("pre-auth-per-client"));
            assertThat(logins).allMatch(ms -> ms < 2000);

            Await.until(
                    "the pre-auth timeout ended every trickling connection",
                    Duration.ofSeconds(20),
                    () -> trickling.stream().allMatch(SlowlorisIT::closedByServer));
            // the client may see its connection closed a moment before the session's end is recorded
            Await.until(
                    "every trickling session ended with pre-auth-timeout",
                    Duration.ofSeconds(10),
                    () -> metrics.closed.stream()
                                    .filter(c -> c.equals("imap:pre-auth-timeout"))
                                    .count()
                            == (long) ADDRESSES * 50);
        } finally {
            for (Socket s : trickling) {
                s.close();
            }
        }
    }
}
