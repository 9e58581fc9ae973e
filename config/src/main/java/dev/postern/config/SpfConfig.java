package dev.postern.config;

import java.time.Duration;
import java.util.Objects;

/**
 * SPF (RFC 7208) checks of the SMTP edge: the MAIL FROM identity, or the HELO identity for the null sender.
 *
 * @param policy what the session does with the result
 * @param timeout how long one whole check may take (RFC 7208 section 4.6.4 asks for at least 20 seconds); past it
 *     the result is {@code temperror}
 * @param temperror what a sender whose check ends in {@code temperror} (DNS down or slow) gets: accepted (and
 *     annotated), or {@code 451 4.4.3}
 */
public record SpfConfig(Policy policy, Duration timeout, DnsFailure temperror) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(20);
    /** No SPF checks. */
    public static final SpfConfig OFF = new SpfConfig(Policy.OFF, DEFAULT_TIMEOUT);

    public SpfConfig {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(temperror, "temperror");
    }

    /** Checks whose {@code temperror} is accepted. */
    public SpfConfig(Policy policy, Duration timeout) {
        this(policy, timeout, DnsFailure.ACCEPT);
    }

    /** What the SMTP session does with an SPF result. */
    public enum Policy {
        /** No check. */
        OFF,
        /** Check, and prepend a {@code Received-SPF} header to the message; refuse nothing. */
        ANNOTATE,
        /** Check, annotate, and refuse the sender when the result is {@code fail}. */
        REJECT
    }
}
