package dev.postern.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Time limits. All strictly positive.
 *
 * @param connect connecting to a backend
 * @param tlsHandshake a TLS handshake, on either side
 * @param preAuth the whole pre-authentication phase of a session
 * @param idle no bytes in either direction during a relayed session
 * @param shutdownGrace how long live sessions may continue after a shutdown starts
 */
public record TimeoutsConfig(
        Duration connect, Duration tlsHandshake, Duration preAuth, Duration idle, Duration shutdownGrace) {

    public static final TimeoutsConfig DEFAULTS = new TimeoutsConfig(
            Duration.ofSeconds(5),
            Duration.ofSeconds(10),
            Duration.ofSeconds(60),
            Duration.ofMinutes(30),
            Duration.ofSeconds(30));

    public TimeoutsConfig {
        Objects.requireNonNull(connect, "connect");
        Objects.requireNonNull(tlsHandshake, "tlsHandshake");
        Objects.requireNonNull(preAuth, "preAuth");
        Objects.requireNonNull(idle, "idle");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
    }
}
