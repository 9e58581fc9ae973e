package dev.postern.config;

import java.time.Duration;

/**
 * Holds of new logins (mailbox moves, like Dovecot's {@code delay_until}): while a user is held, the user's new logins
 * wait after authentication, before routing.
 *
 * @param holdTimeout how long one login waits at most; then the client gets the protocol's temporary failure
 * @param maxHeldLogins logins waiting at once at most, over every user; one more fails temporarily at once
 */
public record HoldsConfig(Duration holdTimeout, int maxHeldLogins) {
    public static final HoldsConfig DEFAULTS = new HoldsConfig(Duration.ofSeconds(30), 10_000);

    /** A hold set without a timeout of its own ends after this long, unless released before. */
    public static final Duration DEFAULT_HOLD = Duration.ofMinutes(5);

    /** The longest a hold may last. */
    public static final Duration MAX_HOLD = Duration.ofHours(24);

    public HoldsConfig {
        if (holdTimeout.isNegative() || holdTimeout.isZero()) {
            throw new IllegalArgumentException("holdTimeout " + holdTimeout + " must be positive");
        }
        if (maxHeldLogins < 1) {
            throw new IllegalArgumentException("maxHeldLogins " + maxHeldLogins + " must be at least 1");
        }
    }
}
