package dev.postern.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Brute-force throttling: failed logins are counted per client address, per user, and per user and address in a
 * sliding window; each failure is answered after a growing delay, and past a threshold the client is refused for a
 * while with the protocol's temporary error.
 *
 * @param window how far back failures count
 * @param ipv6Prefix IPv6 clients are counted by this prefix (a /64 is usually one customer)
 * @param maxFailuresPerAddress failures from one address (or IPv6 prefix) before it is blocked
 * @param maxFailuresPerUser failures for one user, from anywhere, before the user is blocked (except from addresses
 *     where the user logged in successfully within the window)
 * @param maxFailuresPerUserAddress failures for one user from one address before that pair is blocked
 * @param block how long a block lasts
 * @param delays the delay before the answer to the 1st, 2nd, ... failure; the last one repeats
 * @param trustedNetworks clients in these networks are never counted, delayed or blocked (a webmail host)
 * @param maxTracked addresses, users and pairs tracked at most each (the least used are forgotten first)
 * @param shared in cluster mode (a {@code cluster} section), whether the nodes count failures together in Redis;
 *     without a cluster it changes nothing
 */
public record ThrottleConfig(
        Duration window,
        int ipv6Prefix,
        int maxFailuresPerAddress,
        int maxFailuresPerUser,
        int maxFailuresPerUserAddress,
        Duration block,
        List<Duration> delays,
        List<Cidr> trustedNetworks,
        int maxTracked,
        boolean shared) {

    public static final ThrottleConfig DEFAULTS = new ThrottleConfig(
            Duration.ofMinutes(15),
            64,
            20,
            50,
            5,
            Duration.ofMinutes(15),
            List.of(
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(2),
                    Duration.ofSeconds(4),
                    Duration.ofSeconds(8),
                    Duration.ofSeconds(15)),
            List.of(),
            100_000,
            true);

    public ThrottleConfig {
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(block, "block");
        delays = List.copyOf(delays);
        trustedNetworks = List.copyOf(trustedNetworks);
    }

    /** Settings shared in cluster mode (the default). */
    public ThrottleConfig(
            Duration window,
            int ipv6Prefix,
            int maxFailuresPerAddress,
            int maxFailuresPerUser,
            int maxFailuresPerUserAddress,
            Duration block,
            List<Duration> delays,
            List<Cidr> trustedNetworks,
            int maxTracked) {
        this(
                window,
                ipv6Prefix,
                maxFailuresPerAddress,
                maxFailuresPerUser,
                maxFailuresPerUserAddress,
                block,
                delays,
                trustedNetworks,
                maxTracked,
                true);
    }

    /** The delay before answering the {@code n}th failure (1-based) in the window. */
    public Duration delay(int n) {
        if (delays.isEmpty() || n <= 0) {
            return Duration.ZERO;
        }
        return delays.get(Math.min(n, delays.size()) - 1);
    }
}
