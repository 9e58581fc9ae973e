package dev.postern.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a pool's backends are checked.
 *
 * @param enabled whether active checks run (passive observations always count)
 * @param protocol what to expect on the checked port: {@code imap} ({@code * OK}), {@code pop3} ({@code +OK}),
 *     {@code smtp} ({@code 220}) or {@code tcp} (connecting is enough); empty means the protocol of the listeners that
 *     use the pool
 * @param interval time between the end of one check and the start of the next
 * @param timeout for connecting and greeting together
 * @param rise successes in a row that bring a backend back
 * @param fall failures in a row (checks, refused connections) that take it out
 */
public record HealthCheckConfig(
        boolean enabled, Optional<Protocol> protocol, Duration interval, Duration timeout, int rise, int fall) {

    public static final HealthCheckConfig DEFAULTS =
            new HealthCheckConfig(true, Optional.empty(), Duration.ofSeconds(5), Duration.ofSeconds(2), 2, 3);

    public HealthCheckConfig {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(timeout, "timeout");
    }
}
