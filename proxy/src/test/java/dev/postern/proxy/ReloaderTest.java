package dev.postern.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.admin.ConfigReloadResult;
import dev.postern.config.ConfigLoader;
import dev.postern.config.ConfigProblem;
import dev.postern.config.HoldsConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.testkit.Await;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload that fails part-way changes nothing: what it bound is closed again, what it would have removed still
 * accepts. And a listener moved to another address is bound there and no longer at the old one. (Against plain TCP
 * listeners: whether a port accepts is all these tests look at; ConfigReloadIT drives real sessions.)
 */
class ReloaderTest {
    @TempDir
    Path dir;

    private Postern postern;

    @AfterEach
    void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private static String listener(String name, int port) {
        return "  - {name: %s, protocol: tcp, bind: \"127.0.0.1:%d\", pool: p}\n".formatted(name, port);
    }

    private static String pools() {
        return "pools:\n  - {name: p, backends: [{address: \"127.0.0.1:%d\"}]}\n".formatted(FreePorts.closed());
    }

    private Path write(String listeners) throws IOException {
        return Files.writeString(dir.resolve("postern.yaml"), "listeners:\n" + listeners + pools());
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (ConnectException e) {
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /** The reload outcomes the metrics were told of. */
    private final List<String> reloads = new java.util.concurrent.CopyOnWriteArrayList<>();

    private final Metrics countingReloads = new Metrics() {
        @Override
        public void configReload(String outcome) {
            reloads.add(outcome);
        }
    };

    @Test
    void aListenerThatCannotBindUndoesTheWholeReload() throws Exception {
        int a = FreePorts.next();
        int b = FreePorts.next();
        int c = FreePorts.next();
        postern = Postern.start(ConfigLoader.load(write(listener("a", a) + listener("b", b))), new Metrics() {});
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            write(listener("a", a) + listener("c", c) + listener("d", taken.getLocalPort()));

            ConfigReloadResult result = postern.reload();

            assertThat(result).isInstanceOf(ConfigReloadResult.Rejected.class);
            ConfigProblem problem =
                    ((ConfigReloadResult.Rejected) result).problems().get(0);
            assertThat(problem.path()).isEqualTo("listeners[2].bind");
            assertThat(problem.message()).contains("listener 'd': cannot bind").contains("Address already in use");
        }
        assertThat(accepts(a)).isTrue();
        assertThat(accepts(b)).as("b, which the reload would have removed").isTrue();
        Await.until("c, bound by the failed reload, closed again", Duration.ofSeconds(5), () -> !accepts(c));
        assertThat(postern.config().listener("c")).isEmpty();
    }

    @Test
    void aListenerNamingAPoolTheLiveStoreDoesNotHaveIsRefused() throws Exception {
        int a = FreePorts.next();
        postern = Postern.start(ConfigLoader.load(write(listener("a", a))), countingReloads);
        Files.writeString(
                dir.resolve("postern.yaml"),
                "listeners:\n" + listener("a", a)
                        + "  - {name: q, protocol: tcp, bind: \"127.0.0.1:%d\", pool: q}\n".formatted(FreePorts.next())
                        + pools()
                        + "  - {name: q, backends: [{address: \"127.0.0.1:%d\"}]}\n".formatted(FreePorts.closed()));

        ConfigReloadResult result = postern.reload();

        assertThat(result).isInstanceOf(ConfigReloadResult.Rejected.class);
        assertThat(((ConfigReloadResult.Rejected) result).problems())
                .extracting(ConfigProblem::path)
                .containsExactly("listeners[1].pool");
        assertThat(((ConfigReloadResult.Rejected) result).problems().get(0).message())
                .contains("the live route store has no pool 'q'");
        assertThat(reloads).containsExactly("rejected");
    }

    @Test
    void theHoldSettingsOfTheStartSurviveAReload() throws Exception {
        int a = FreePorts.next();
        String holds = "routing: {hold-timeout: 7s, max-held-logins: 42}\n";
        Path file = write(listener("a", a));
        Files.writeString(file, Files.readString(file) + holds);
        postern = Postern.start(ConfigLoader.load(file), new Metrics() {});
        write(listener("a", a) + listener("b", FreePorts.next()));
        Files.writeString(file, Files.readString(file) + holds);

        assertThat(postern.reload()).isInstanceOf(ConfigReloadResult.Applied.class);

        assertThat(postern.config().listener("b")).isPresent();
        assertThat(postern.config().holds()).isEqualTo(new HoldsConfig(Duration.ofSeconds(7), 42));
    }

    @Test
    void aListenerMovedToAnotherPortIsBoundThereAndClosedAtTheOldOne() throws Exception {
        int a = FreePorts.next();
        int moved = FreePorts.next();
        postern = Postern.start(ConfigLoader.load(write(listener("a", a))), new Metrics() {});
        write(listener("a", moved));

        ConfigReloadResult result = postern.reload();

        assertThat(result).isInstanceOf(ConfigReloadResult.Applied.class);
        ConfigReloadResult.Applied applied = (ConfigReloadResult.Applied) result;
        assertThat(applied.listenersChanged())
                .containsExactly(new ConfigReloadResult.ListenerChange("a", List.of("bind")));
        assertThat(postern.address("a").getPort()).isEqualTo(moved);
        assertThat(accepts(moved)).isTrue();
        Await.until("the old port closed", Duration.ofSeconds(5), () -> !accepts(a));
    }

    @Test
    void aChangedListenerAcceptsThroughoutItsReloads() throws Exception {
        int a = FreePorts.next();
        postern = Postern.start(ConfigLoader.load(write(listener("a", a))), new Metrics() {});
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger accepted = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread clients = new Thread(() -> {
            while (running.get()) {
                if (accepts(a)) {
                    accepted.incrementAndGet();
                } else {
                    refused.incrementAndGet();
                }
            }
        });
        clients.start();
        long nanos = 0;
        int reloads = 20;
        try {
            Await.until("clients connecting", Duration.ofSeconds(5), () -> accepted.get() > 0);
            for (int i = 1; i <= reloads; i++) {
                write("  - {name: a, protocol: tcp, bind: \"127.0.0.1:%d\", pool: p, limits: {max-connections: %d}}\n"
                        .formatted(a, 1000 + i));
                long start = System.nanoTime();
                ConfigReloadResult result = postern.reload();
                nanos += System.nanoTime() - start;
                assertThat(result).isInstanceOf(ConfigReloadResult.Applied.class);
                assertThat(((ConfigReloadResult.Applied) result).listenersChanged())
                        .containsExactly(new ConfigReloadResult.ListenerChange("a", List.of("limits")));
            }
        } finally {
            running.set(false);
            clients.join();
        }
        assertThat(postern.config().listener("a").orElseThrow().limits().maxConnections())
                .isEqualTo(1000 + reloads);
        assertThat(refused.get())
                .as("connections refused during %d reloads", reloads)
                .isZero();
        System.out.printf(
                "%d reloads of a changed listener: %.1f ms each on average, %d connections accepted meanwhile, none"
                        + " refused%n",
                reloads, nanos / 1e6 / reloads, accepted.get());
    }

    @Test
    void theSameFileAgainChangesNothing() throws Exception {
        int a = FreePorts.next();
        postern = Postern.start(ConfigLoader.load(write(listener("a", a))), countingReloads);

        ConfigReloadResult result = postern.reload();

        assertThat(result).isInstanceOf(ConfigReloadResult.Applied.class);
        assertThat(((ConfigReloadResult.Applied) result).anyChange()).isFalse();
        assertThat(accepts(a)).isTrue();
        assertThat(reloads).containsExactly("applied");
    }
}
