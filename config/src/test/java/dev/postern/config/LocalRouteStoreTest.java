package dev.postern.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalRouteStoreTest {
    @TempDir
    Path dir;

    static RoutingTable seed() {
        Backend b = new Backend(
                "d1",
                "10.0.0.1",
                143,
                Map.of(),
                1,
                Backend.State.ACTIVE,
                0,
                TlsMode.NONE,
                true,
                Backend.Identity.NONE,
                Optional.empty());
        return new RoutingTable(
                0,
                List.of(new Pool("main", Pool.Balancer.ROUND_ROBIN, List.of(b))),
                new Routes(Map.of(), Map.of(), Optional.of("main")));
    }

    private static RoutingTable withUser(RoutingTable t, String user) {
        Map<String, String> users = new HashMap<>(t.routes().users());
        users.put(user, "main");
        return new RoutingTable(
                0, t.pools(), new Routes(users, t.routes().domains(), t.routes().defaultPool()));
    }

    @Test
    void theFirstStartSeedsTheFileAndLaterStartsLoadIt() throws Exception {
        Path file = dir.resolve("routes.json");
        LocalRouteStore store = LocalRouteStore.open(file, seed());
        assertThat(store.current().revision()).isEqualTo(1);
        assertThat(file).exists();
        store.update(1, t -> withUser(t, "a@example.com"));

        RoutingTable other = new RoutingTable(0, seed().pools(), Routes.NONE);
        LocalRouteStore reopened = LocalRouteStore.open(file, other);
        assertThat(reopened.current().revision()).isEqualTo(2);
        assertThat(reopened.current().routes().users()).containsEntry("a@example.com", "main");
        assertThat(Files.getPosixFilePermissions(file)).hasSize(2); // rw-------
    }

    @Test
    void aStaleRevisionIsAConflictAndChangesNothing() throws Exception {
        LocalRouteStore store = LocalRouteStore.inMemory(seed());
        store.update(1, t -> withUser(t, "a@example.com"));
        assertThatThrownBy(() -> store.update(1, t -> withUser(t, "b@example.com")))
                .isInstanceOf(RouteStore.RevisionConflictException.class)
                .hasMessage("revision 1 is not the current one (2)");
        assertThat(store.current().routes().users()).containsOnlyKeys("a@example.com");
    }

    @Test
    void anInvalidTableIsRefusedWithEveryProblem() throws Exception {
        LocalRouteStore store = LocalRouteStore.inMemory(seed());
        store.addValidator(t -> t.pool("main").isPresent()
                ? List.of()
                : List.of(new ConfigProblem("pools", "listener 'imaps' uses pool 'main'")));
        assertThatThrownBy(() -> store.update(-1, t -> new RoutingTable(0, List.of(), t.routes())))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .extracting(ConfigProblem::toString)
                        .containsExactly(
                                "routes.default: no pool named 'main'", "pools: listener 'imaps' uses pool 'main'"));
        assertThat(store.current().revision()).isEqualTo(1);
    }

    @Test
    void listenersSeeEveryNewTableAfterItIsPersisted() throws Exception {
        Path file = dir.resolve("routes.json");
        LocalRouteStore store = LocalRouteStore.open(file, seed());
        List<Long> seen = new ArrayList<>();
        store.subscribe(t -> {
            try {
                seen.add(RoutingJson.read(Files.readString(file)).revision());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        store.update(-1, t -> withUser(t, "a@example.com"));
        store.update(-1, t -> withUser(t, "b@example.com"));
        assertThat(seen).containsExactly(2L, 3L);
    }

    @Test
    void aWriteThatFailsHalfwayLeavesTheOldFileAndTheOldTable() throws Exception {
        Path file = dir.resolve("routes.json");
        AtomicLong failNext = new AtomicLong();
        LocalRouteStore.FileOps failing = new LocalRouteStore.FileOps() {
            @Override
            public void writeAndForce(Path f, byte[] content) throws IOException {
                if (failNext.get() > 0) {
                    // half the bytes reach the disk, then the disk is full
                    Files.write(f, java.util.Arrays.copyOf(content, content.length / 2));
                    throw new IOException("No space left on device");
                }
                LocalRouteStore.REAL_FILES.writeAndForce(f, content);
            }

            @Override
            public void atomicReplace(Path source, Path target) throws IOException {
                LocalRouteStore.REAL_FILES.atomicReplace(source, target);
            }

            @Override
            public void forceDirectory(Path d) throws IOException {
                LocalRouteStore.REAL_FILES.forceDirectory(d);
            }
        };
        LocalRouteStore store = LocalRouteStore.open(file, seed(), failing);
        String before = Files.readString(file);
        failNext.set(1);
        assertThatThrownBy(() -> store.update(-1, t -> withUser(t, "a@example.com")))
                .isInstanceOf(IOException.class)
                .hasMessage("No space left on device");
        assertThat(Files.readString(file)).isEqualTo(before);
        assertThat(store.current().revision()).isEqualTo(1);
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(file);
        }
    }

    @Test
    void aProcessKilledWhileWritingLeavesAValidFile() throws Exception {
        Path file = dir.resolve("routes.json");
        Process child = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        RouteStoreCrashWriter.class.getName(),
                        file.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        long lastPrinted = 0;
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
            String line;
            while ((line = out.readLine()) != null) {
                lastPrinted = Long.parseLong(line.trim());
                if (lastPrinted >= 30) {
                    child.destroyForcibly(); // SIGKILL, most likely in the middle of the next write
                    break;
                }
            }
        }
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(lastPrinted).isGreaterThanOrEqualTo(30);

        LocalRouteStore reopened = LocalRouteStore.open(file, seed());
        long revision = reopened.current().revision();
        assertThat(revision).isBetween(lastPrinted, lastPrinted + 1);
        assertThat(reopened.current().routes().users()).containsKey("writer" + (revision - 2) + "@example.com");
        try (var files = Files.list(dir)) {
            assertThat(files).as("temporary files are cleaned up at open").containsExactly(file);
        }
    }

    @Test
    void concurrentWritersNeverLoseAnUpdate() throws Exception {
        LocalRouteStore store = LocalRouteStore.open(dir.resolve("routes.json"), seed());
        int writers = 8;
        int each = 25;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        List<Future<?>> futures = new ArrayList<>();
        AtomicLong conflicts = new AtomicLong();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            futures.add(pool.submit(() -> {
                for (int i = 0; i < each; i++) {
                    String user = "w" + writer + "-" + i + "@example.com";
                    while (true) {
                        long rev = store.current().revision();
                        try {
                            store.update(rev, t -> withUser(t, user));
                            break;
                        } catch (RouteStore.RevisionConflictException e) {
                            conflicts.incrementAndGet(); // someone else won this round: read again, retry
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(store.current().revision()).isEqualTo(1 + writers * each);
        assertThat(store.current().routes().users()).hasSize(writers * each);
        assertThat(LocalRouteStore.open(dir.resolve("routes.json"), seed()).current())
                .isEqualTo(store.current());
    }
}
