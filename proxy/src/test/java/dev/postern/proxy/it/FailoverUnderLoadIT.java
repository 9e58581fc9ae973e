package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.ImapTestClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backend crashes under load: clients keep logging in (LOGIN, SELECT, LOGOUT in a loop through Postern) while the
 * Dovecot that holds their mailboxes is killed with SIGKILL. Only the sessions in flight on it may fail; new logins
 * go to the other backend at once. The figures are printed and kept in {@code target/failover-under-load.txt}.
 */
class FailoverUnderLoadIT {
    private static final int CLIENTS = 8;
    private static final long RUN_MILLIS = 8_000;
    private static final long CRASH_AT_MILLIS = 3_000;

    @TempDir
    Path dir;

    /** One login session's outcome. */
    private record Op(long startMillis, long endMillis, boolean ok, String backend) {}

    @Test
    void onlySessionsInFlightOnTheCrashedBackendFail() throws Exception {
        DevBackends.ensureStarted();
        DevBackends.Instance second = DevBackends.second().ensureStarted();
        try (PosternHarness postern = PosternHarness.start(
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: pair}
                pools:
                  - name: pair
                    health-check: {protocol: imap, interval: 500ms, timeout: 1s, rise: 2, fall: 2}
                    backends:
                      - {id: main, address: "127.0.0.1:%d"}
                      - {id: second, address: "127.0.0.1:%d", weight: 1000}
                """
                        .formatted(FreePorts.next(), DevBackends.IMAP, second.port(DevBackends.IMAP)),
                dir)) {
            int port = postern.port("imap");
            long t0 = System.currentTimeMillis();
            ConcurrentLinkedQueue<Op> ops = new ConcurrentLinkedQueue<>();
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                String user = i % 2 == 0 ? DevBackends.ALICE : DevBackends.BOB;
                String password = i % 2 == 0 ? DevBackends.ALICE_PASSWORD : DevBackends.BOB_PASSWORD;
                running.add(clients.submit(() -> {
                    while (System.currentTimeMillis() - t0 < RUN_MILLIS) {
                        long start = System.currentTimeMillis() - t0;
                        boolean ok;
                        String backend = null;
                        try (ImapTestClient c = ImapTestClient.connect(port)) {
                            String login = c.login(user, password);
                            if (login != null && login.startsWith("OK")) {
                                backend =
                                        postern
                                                .postern()
                                                .services()
                                                .sessions()
                                                .find(s -> user.equals(s.user()))
                                                .stream()
                                                .map(s -> s.backendId())
                                                .findAny()
                                                .orElse("?");
                            }
                            String select = c.command("SELECT INBOX");
                            String logout = c.command("LOGOUT");
                            ok = login != null
                                    && login.startsWith("OK")
                                    && select != null
                                    && select.startsWith("OK")
                                    && logout != null;
                        } catch (RuntimeException e) {
                            ok = false;
                        }
                        ops.add(new Op(start, System.currentTimeMillis() - t0, ok, backend));
                    }
                    return null;
                }));
            }
            while (System.currentTimeMillis() - t0 < CRASH_AT_MILLIS) {
                Thread.onSpinWait(); // the load runs on its own threads; this one only times the crash
                java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
            }
            // the kill takes a while (every process of the instance, one by one): sessions that start while it runs
            // are in flight at the crash; "after the crash" begins once no process of it is left
            long crashBegan = System.currentTimeMillis() - t0;
            second.crashDovecot();
            long crashAt = System.currentTimeMillis() - t0;
            for (Future<?> f : running) {
                f.get(RUN_MILLIS + 30_000, TimeUnit.MILLISECONDS);
            }
            clients.shutdown();

            List<Op> all = new ArrayList<>(ops);
            long before = all.stream().filter(o -> o.endMillis() < crashBegan).count();
            List<Op> failed = all.stream().filter(o -> !o.ok()).toList();
            long firstMoved = all.stream()
                    .filter(o -> o.ok() && o.startMillis() >= crashAt && "main".equals(o.backend()))
                    .mapToLong(Op::endMillis)
                    .min()
                    .orElse(-1);
            long lastFailure = failed.stream().mapToLong(Op::endMillis).max().orElse(-1);
            long startedAfterAndFailed =
                    failed.stream().filter(o -> o.startMillis() > crashAt).count();
            String summary = String.format(
                    "failover under load: %d clients, %d login sessions (%d before the crash at %d ms), %d failed"
                            + " (%d of them started after the crash); first session on 'main' after the crash ended"
                            + " %d ms after it; last failure ended %d ms after it",
                    CLIENTS,
                    all.size(),
                    before,
                    crashAt,
                    failed.size(),
                    startedAfterAndFailed,
                    firstMoved < 0 ? -1 : firstMoved - crashAt,
                    lastFailure < 0 ? -1 : lastFailure - crashAt);
            System.out.println(summary);
            writeFigures(summary);

            assertThat(before).as("traffic before the crash").isGreaterThan(CLIENTS);
            assertThat(all.stream().filter(o -> o.startMillis() < crashBegan).map(Op::backend))
                    .as("before the crash the users live on 'second'")
                    .contains("second");
            // at most the sessions in flight at the crash fail, and nothing that starts after it
            assertThat(failed.size()).isLessThanOrEqualTo(CLIENTS);
            assertThat(startedAfterAndFailed).isZero();
            assertThat(firstMoved).as("sessions moved to 'main'").isGreaterThanOrEqualTo(crashAt);
        } finally {
            second.ensureStarted();
        }
    }

    private static void writeFigures(String summary) throws IOException {
        Path target = DevBackends.repoRoot().resolve("proxy/target");
        if (Files.isDirectory(target)) {
            Files.writeString(target.resolve("failover-under-load.txt"), summary + "\n");
        }
    }
}
