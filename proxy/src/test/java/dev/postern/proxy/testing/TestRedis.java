package dev.postern.proxy.testing;

import dev.postern.config.HostPort;
import dev.postern.testkit.Await;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private redis-server (Debian's {@code redis-server}) on a free loopback port, with a configuration of its own
 * in a temporary directory: no persistence unless a test saves, nothing shared with any other Redis. Stop and start
 * it again on the same port to play an outage.
 */
public final class TestRedis implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final Path dir;
    private final int port;
    private final List<String> extraConfig;
    private final int tlsPort;
    private Process process;

    private TestRedis(Path dir, int port, List<String> extraConfig, int tlsPort) {
        this.dir = dir;
        this.port = port;
        this.extraConfig = List.copyOf(extraConfig);
        this.tlsPort = tlsPort;
    }

    /** A Redis without passwords. */
    public static TestRedis start() {
        return start(List.of());
    }

    /** A Redis with more configuration lines ({@code user postern on >pw ~postern:* +@all}, ...). */
    public static TestRedis start(List<String> extraConfig) {
        return start(extraConfig, false);
    }

    /**
     * A Redis that also takes TLS on {@link #tlsAddress()}, with the certificate chain {@code cert} and its key (PEM),
     * without client certificates.
     */
    public static TestRedis startWithTls(Path cert, Path key) {
        return start(
                List.of(
                        "tls-cert-file " + cert,
                        "tls-key-file " + key,
                        "tls-ca-cert-file " + cert,
                        "tls-auth-clients no"),
                true);
    }

    private static TestRedis start(List<String> extraConfig, boolean tls) {
        Path dir;
        try {
            dir = Files.createTempDirectory("postern-redis-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AssertionError last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            TestRedis redis = new TestRedis(dir, FreePorts.next(), extraConfig, tls ? FreePorts.next() : 0);
            try {
                redis.startProcess();
                return redis;
            } catch (AssertionError e) {
                // most likely a port taken between choosing and binding it: choose again
                last = e;
            }
        }
        throw last;
    }

    public int port() {
        return port;
    }

    public HostPort address() {
        return new HostPort("127.0.0.1", port);
    }

    /** The TLS port's address (servers started with {@link #startWithTls}). */
    public HostPort tlsAddress() {
        if (tlsPort == 0) {
            throw new IllegalStateException("this redis takes no TLS");
        }
        return new HostPort("localhost", tlsPort);
    }

    public Path dir() {
        return dir;
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Kills the server at once (SIGKILL: no goodbye to its clients, no save). */
    public void kill() {
        if (process != null) {
            process.destroyForcibly();
            waitForExit();
        }
    }

    /** Saves the data to the directory ({@code SAVE}) and kills the server: a restart finds the data again. */
    public void saveAndKill() {
        String answer = command("SAVE");
        if (!answer.startsWith("+OK")) {
            throw new AssertionError("SAVE answered " + answer);
        }
        kill();
    }

    /** Starts the server again on the same port, with the data of the last save if there was one. */
    public void restart() {
        if (isRunning()) {
            throw new IllegalStateException("redis is still running");
        }
        startProcess();
    }

    /** Runs redis-cli against this server; its output, trimmed. */
    public String cli(String... args) {
        List<String> command = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        command.addAll(List.of(args));
        Processes.Result r = Processes.run(Duration.ofSeconds(10), command.toArray(String[]::new));
        if (r.exitCode() != 0) {
            throw new AssertionError("redis-cli " + String.join(" ", args) + ": " + r);
        }
        return r.stdout().trim();
    }

    private void startProcess() {
        List<String> lines = new ArrayList<>(List.of(
                "port " + port,
                "bind 127.0.0.1",
                "save \"\"",
                "appendonly no",
                "dir " + dir,
                "dbfilename dump.rdb",
                "daemonize no",
                "loglevel warning",
                "logfile " + dir.resolve("redis.log")));
        if (tlsPort != 0) {
            lines.add("tls-port " + tlsPort);
            // the TLS port is reached by name (the certificate's), which may be either loopback address
            lines.add("bind 127.0.0.1 -::1");
        }
        lines.addAll(extraConfig);
        Path conf = dir.resolve("redis.conf");
        try {
            Files.write(conf, lines);
            process = new ProcessBuilder("redis-server", conf.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("redis.out").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Await.until("redis-server on port " + port + " answers", START_TIMEOUT, () -> {
                if (!process.isAlive()) {
                    throw new AssertionError("redis-server did not start:\n" + read("redis.out") + read("redis.log"));
                }
                String answer = tryCommand("PING");
                // a server whose ACL refuses the default user answers NOAUTH: it is up all the same
                return answer != null && (answer.startsWith("+PONG") || answer.startsWith("-NOAUTH"));
            });
        } catch (AssertionError e) {
            process.destroyForcibly();
            throw new AssertionError(e.getMessage() + "\n" + read("redis.log"), e);
        }
    }

    /** One inline command on a fresh connection, as the default user; its first reply line. */
    private String command(String inline) {
        String answer = tryCommand(inline);
        if (answer == null) {
            throw new AssertionError("redis on port " + port + " did not answer " + inline);
        }
        return answer;
    }

    private String tryCommand(String inline) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write((inline + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                line.append((char) c);
            }
            return line.toString().trim();
        } catch (IOException e) {
            // not listening yet: the caller polls until its deadline, each try bounded by the connect timeout
            return null;
        }
    }

    private void waitForExit() {
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new AssertionError("redis-server did not exit");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private String read(String file) {
        try {
            Path p = dir.resolve(file);
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        kill();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind
        }
    }
}
