package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The process's file-descriptor limit reached: Postern runs as its own process under {@code prlimit --nofile=N}; the
 * test opens connections until new ones get no greeting (Postern cannot accept them: EMFILE). A session that logged
 * in before keeps working, the accept loop does not spin (CPU and log lines stay bounded while the limit holds), and
 * once some connections close, new logins work again.
 */
class FileDescriptorLimitIT {
    private static final int NOFILE = 256;

    @TempDir
    static Path dir;

    @BeforeAll
    static void backends() {
        DevBackends.ensureStarted();
    }

    /** The greeting arrives within a second (false: the connection waits in the accept queue). */
    private static boolean greeted(Socket s) {
        try {
            s.setSoTimeout(1000);
            InputStream in = s.getInputStream();
            return in.read() == '*';
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /** The process's CPU time so far, in clock ticks (utime + stime of /proc/PID/stat). */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    @Test
    void newConnectionsWaitWhileLiveSessionsWorkAndLoginsReturnWhenDescriptorsDo() throws Exception {
        int port = FreePorts.next();
        String yaml =
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: dovecot,
                     limits: {pre-auth-connections-per-client: 0}, timeouts: {pre-auth: 5m}}
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(port, DevBackends.IMAP);
        List<Socket> idle = new ArrayList<>();
        try (PosternProcess postern = PosternProcess.start(
                        dir, yaml, List.of("prlimit", "--nofile=" + NOFILE + ":" + NOFILE), "imap");
                ImapTestClient live = ImapTestClient.connect(port)) {
            assertThat(live.login(DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                    .startsWith("OK");
            int waiting = 0;
            while (waiting < 3 && idle.size() < NOFILE + 10) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
                idle.add(s);
                waiting = greeted(s) ? 0 : waiting + 1;
            }
            assertThat(waiting).as("connections past the limit get no greeting").isEqualTo(3);
            int greeted = idle.size() - 3;
            assertThat(greeted).as("accepted up to the limit").isBetween(NOFILE / 2, NOFILE);

            long pid = postern.process.pid();
            int linesBefore = postern.output.size();
            long ticksBefore = cpuTicks(pid);
            long start = System.nanoTime();
            // the live session works meanwhile (and takes the time the CPU is measured over)
            Pace pace = Pace.every(Duration.ofMillis(500)); // the measuring period: 2 s
            for (int i = 0; i < 4; i++) {
                assertThat(live.command("NOOP")).startsWith("OK");
                pace.awaitTick();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpu = (cpuTicks(pid) - ticksBefore) / 100.0 / seconds;
            int lines = postern.output.size() - linesBefore;
            System.out.printf(
                    "fd limit %d: %d connections greeted, 3 waiting; Postern's CPU %.0f%%, %d log lines in %.1fs%n",
                    NOFILE, greeted, cpu * 100, lines, seconds);
            assertThat(cpu).as("the accept loop does not spin").isLessThan(0.3);
            assertThat(lines).as("log lines while the limit holds").isLessThan(50);

            for (int i = 0; i < 40; i++) {
                idle.remove(idle.size() - 1).close();
            }
            Await.until("new logins work again", Duration.ofSeconds(15), () -> {
                try (ImapTestClient c = ImapTestClient.connect(port)) {
                    return c.login(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)
                            .startsWith("OK");
                } catch (RuntimeException | AssertionError e) {
                    return false;
                }
            });
            assertThat(live.command("NOOP")).startsWith("OK");
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
    }
}
