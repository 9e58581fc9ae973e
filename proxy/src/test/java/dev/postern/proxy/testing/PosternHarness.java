package dev.postern.proxy.testing;

import dev.postern.config.ConfigException;
import dev.postern.config.ConfigLoader;
import dev.postern.config.HealthCheckConfig;
import dev.postern.config.PosternConfig;
import dev.postern.proxy.Postern;
import dev.postern.proxy.StartupException;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.testkit.Await;
import dev.postern.testkit.TestCertificates.PemFiles;
import java.nio.file.Path;
import java.time.Duration;

/** A Postern started in the test's JVM from YAML text, stopped by {@link #close()}. */
public final class PosternHarness implements AutoCloseable {
    private final Postern postern;

    private PosternHarness(Postern postern) {
        this.postern = postern;
    }

    /** Parses {@code yaml} (relative paths against {@code baseDir}) and starts Postern on it. */
    public static PosternHarness start(String yaml, Path baseDir) {
        return start(yaml, baseDir, Metrics.NOOP);
    }

    public static PosternHarness start(String yaml, Path baseDir, Metrics metrics) {
        PosternConfig config;
        try {
            config = ConfigLoader.parse(yaml, baseDir);
        } catch (ConfigException e) {
            throw new AssertionError("test configuration is invalid:\n" + e.getMessage() + "\n" + yaml, e);
        }
        if (!yaml.contains("health-check")) {
            // active health checks would open connections of their own to the tests' scripted backends; tests
            // that are about health checks configure them explicitly
            config = config.withPools(config.pools().stream()
                    .map(p -> p.withHealthCheck(new HealthCheckConfig(
                            false,
                            p.healthCheck().protocol(),
                            p.healthCheck().interval(),
                            p.healthCheck().timeout(),
                            p.healthCheck().rise(),
                            p.healthCheck().fall())))
                    .toList());
        }
        try {
            return new PosternHarness(Postern.start(config, metrics));
        } catch (StartupException e) {
            throw new AssertionError("Postern did not start: " + e.getMessage(), e);
        }
    }

    /** The {@code tls:} section of a configuration that serves the certificate in {@code files}. */
    public static String tlsYaml(PemFiles files) {
        return "tls:\n  certificates:\n    - {cert: \"" + files.cert() + "\", key: \"" + files.key() + "\"}\n";
    }

    public Postern postern() {
        return postern;
    }

    public int port(String listener) {
        return postern.address(listener).getPort();
    }

    /** Live sessions right now. */
    public int sessions() {
        return postern.services().sessions().size();
    }

    /** Waits until no session is open (after clients disconnected). */
    public void awaitNoSessions() {
        Await.until("all sessions closed", Duration.ofSeconds(10), () -> sessions() == 0);
    }

    @Override
    public void close() {
        postern.stop(Duration.ZERO);
    }
}
