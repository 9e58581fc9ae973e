package dev.postern.admin;

import dev.postern.config.AdminConfig;
import dev.postern.config.HostPort;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How the admin server runs.
 *
 * @param bind where it listens (port 0: the system picks one)
 * @param tokens who may call the API; none means every API call gets 401
 * @param metricsAuth whether {@code /metrics} needs a token
 * @param maxBodyBytes the largest request body accepted (413 above it)
 * @param idleTimeout an idle keep-alive connection is closed after this
 * @param workerThreads threads that run API requests off the event loop (store writes wait for the disk)
 * @param requestReadTimeout a request (line, headers and body) must arrive whole within this, else 408 and close
 */
public record AdminSettings(
        HostPort bind,
        List<AdminConfig.Token> tokens,
        boolean metricsAuth,
        int maxBodyBytes,
        Duration idleTimeout,
        int workerThreads,
        Duration requestReadTimeout) {
    public static final int DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_REQUEST_READ_TIMEOUT = Duration.ofSeconds(10);

    public AdminSettings {
        Objects.requireNonNull(bind, "bind");
        tokens = List.copyOf(tokens);
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(requestReadTimeout, "requestReadTimeout");
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes " + maxBodyBytes + " must be >= 1");
        }
        if (workerThreads < 1) {
            throw new IllegalArgumentException("workerThreads " + workerThreads + " must be >= 1");
        }
    }

    /** The settings of a configured admin API (whose {@code bind} must be present). */
    public static AdminSettings from(AdminConfig config) {
        HostPort bind = config.bind().orElseThrow(() -> new IllegalArgumentException("the admin API is disabled"));
        return new AdminSettings(
                bind,
                config.tokens(),
                config.metricsAuth(),
                DEFAULT_MAX_BODY_BYTES,
                DEFAULT_IDLE_TIMEOUT,
                2,
                DEFAULT_REQUEST_READ_TIMEOUT);
    }

    /** Defaults with the given listener address and tokens (tests, tools). */
    public static AdminSettings of(HostPort bind, List<AdminConfig.Token> tokens) {
        return new AdminSettings(
                bind, tokens, false, DEFAULT_MAX_BODY_BYTES, DEFAULT_IDLE_TIMEOUT, 2, DEFAULT_REQUEST_READ_TIMEOUT);
    }

    public AdminSettings withMetricsAuth(boolean value) {
        return new AdminSettings(bind, tokens, value, maxBodyBytes, idleTimeout, workerThreads, requestReadTimeout);
    }

    public AdminSettings withMaxBodyBytes(int value) {
        return new AdminSettings(bind, tokens, metricsAuth, value, idleTimeout, workerThreads, requestReadTimeout);
    }

    public AdminSettings withRequestReadTimeout(Duration value) {
        return new AdminSettings(bind, tokens, metricsAuth, maxBodyBytes, idleTimeout, workerThreads, value);
    }
}
