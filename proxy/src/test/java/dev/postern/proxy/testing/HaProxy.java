package dev.postern.proxy.testing;

import dev.postern.testkit.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real HAProxy ({@code /usr/sbin/haproxy}, Debian package {@code haproxy}) in TCP mode on loopback, started in the
 * foreground ({@code -db}) from a configuration this class writes, and killed by {@link #close()} (or, should the test
 * JVM end first, by a shutdown hook). Each {@link #frontend} listens on a free port and forwards to one server with
 * the given options ({@code send-proxy-v2}, {@code send-proxy}).
 */
public final class HaProxy implements AutoCloseable {
    private final Process process;
    private final Thread hook;
    private final Path log;
    private final List<Frontend> frontends;

    /** One {@code listen} section: HAProxy's port, the server it forwards to, and that server's options. */
    public record Frontend(String name, int port, int serverPort, String serverOptions) {}

    private HaProxy(Process process, Path log, List<Frontend> frontends) {
        this.process = process;
        this.log = log;
        this.frontends = List.copyOf(frontends);
        this.hook = new Thread(process::destroyForcibly);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** A frontend on a free loopback port forwarding to {@code 127.0.0.1:serverPort}. */
    public static Frontend frontend(String name, int serverPort, String serverOptions) {
        return new Frontend(name, FreePorts.next(), serverPort, serverOptions);
    }

    /** Writes the configuration into {@code dir}, starts HAProxy, and waits until every frontend accepts. */
    public static HaProxy start(Path dir, List<Frontend> frontends) {
        StringBuilder cfg = new StringBuilder(
                """
                global
                    maxconn 256
                defaults
                    mode tcp
                    timeout connect 5s
                    timeout client 60s
                    timeout server 60s
                """);
        for (Frontend f : frontends) {
            cfg.append("listen ")
                    .append(f.name())
                    .append("\n    bind 127.0.0.1:")
                    .append(f.port())
                    .append("\n    server s1 127.0.0.1:")
                    .append(f.serverPort())
                    .append(' ')
                    .append(f.serverOptions())
                    .append('\n');
        }
        Path config = dir.resolve("haproxy.cfg");
        Path log = dir.resolve("haproxy.log");
        try {
            Files.writeString(config, cfg, StandardCharsets.UTF_8);
            Processes.Result check =
                    Processes.run(Duration.ofSeconds(20), "haproxy", "-c", "-q", "-f", config.toString());
            if (check.exitCode() != 0) {
                throw new AssertionError("haproxy -c refused the configuration\n" + cfg + "\n" + check);
            }
            Process p = new ProcessBuilder(List.of("haproxy", "-db", "-f", config.toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            HaProxy haproxy = new HaProxy(p, log, frontends);
            try {
                for (Frontend f : frontends) {
                    Await.until("haproxy listening on " + f.port(), Duration.ofSeconds(15), () -> {
                        if (!p.isAlive()) {
                            throw new AssertionError("haproxy exited " + p.exitValue() + "\n" + haproxy.log());
                        }
                        return listening(f.port());
                    });
                }
            } catch (RuntimeException | AssertionError e) {
                haproxy.close();
                throw e;
            }
            return haproxy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Whether something accepts on {@code port}. The probe connection is one HAProxy forwards like any other (a
     * session that sends a header and closes); tests wait for it to end before they count sessions.
     */
    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The port HAProxy listens on for the frontend {@code name}. */
    public int port(String name) {
        return frontends.stream()
                .filter(f -> f.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no frontend " + name))
                .port();
    }

    /** What HAProxy printed so far. */
    public String log() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The pid of the HAProxy process (and of its workers, if any), for the tests' own checks. */
    public List<Long> pids() {
        List<Long> pids = new ArrayList<>();
        pids.add(process.pid());
        process.descendants().forEach(d -> pids.add(d.pid()));
        return pids;
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down already; the hook runs anyway
            }
        }
    }
}
