package dev.postern.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * DNS block and allow lists for the SMTP edge, scored like Postfix's postscreen: every list that lists the client adds
 * its weight; a client whose score reaches {@code threshold} is refused, and one whose score is at most {@code
 * allowlistThreshold} (when that is negative) skips the other tests.
 *
 * @param sites the lists, each queried once per client (a zone named twice, with different filters, is queried once)
 * @param threshold the score at which a client is blocked, at least 1 (postscreen_dnsbl_threshold)
 * @param allowlistThreshold the score at or below which a client is allowlisted; 0 turns allowlisting off
 *     (postscreen_dnsbl_allowlist_threshold)
 * @param timeout how long the lists may take together; a list that has not answered by then counts 0
 * @param cacheTtl how long a client's result is reused (0: not cached); results with an unanswered list are not
 * @param onFailure what a client gets when a list does not answer ({@code smtp.dnsbl-failure}): counted as not
 *     listed, or a temporary failure of its recipients
 */
public record DnsblConfig(
        List<DnsblSite> sites,
        int threshold,
        int allowlistThreshold,
        Duration timeout,
        Duration cacheTtl,
        DnsFailure onFailure) {
    public static final int DEFAULT_THRESHOLD = 1;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_CACHE_TTL = Duration.ofHours(1);

    public DnsblConfig {
        sites = List.copyOf(sites);
        if (threshold < 1) {
            throw new IllegalArgumentException("threshold " + threshold + " must be >= 1");
        }
        if (allowlistThreshold > 0) {
            throw new IllegalArgumentException("allowlistThreshold " + allowlistThreshold + " must be <= 0");
        }
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(cacheTtl, "cacheTtl");
        Objects.requireNonNull(onFailure, "onFailure");
    }

    /** Lists that fail open (an unanswered list counts 0). */
    public DnsblConfig(
            List<DnsblSite> sites, int threshold, int allowlistThreshold, Duration timeout, Duration cacheTtl) {
        this(sites, threshold, allowlistThreshold, timeout, cacheTtl, DnsFailure.ACCEPT);
    }

    /** These lists with {@code failure} as what an unanswered list means. */
    public DnsblConfig withFailure(DnsFailure failure) {
        return new DnsblConfig(sites, threshold, allowlistThreshold, timeout, cacheTtl, failure);
    }

    /** Whether {@code score} blocks a client. */
    public boolean blocks(int score) {
        return score >= threshold;
    }

    /** Whether {@code score} allowlists a client (never when allowlisting is off). */
    public boolean allowlists(int score) {
        return allowlistThreshold < 0 && score <= allowlistThreshold;
    }
}
