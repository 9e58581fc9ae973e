package dev.postern.proxy.dns;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What the DNS block and allow lists say about one client.
 *
 * @param score the sum of the weights of the lists whose answer matched their filter
 * @param verdict what the score means under the configured thresholds
 * @param matched the zones of those lists, in configuration order (names only: never an answer's text)
 * @param timedOut the zones that gave no usable answer in time (timed out, or failed with SERVFAIL and the like);
 *     each counts 0
 * @param elapsed how long the lists took (for a cached result: how long they took then)
 */
public record DnsblResult(int score, Verdict verdict, List<String> matched, List<String> timedOut, Duration elapsed) {

    public DnsblResult {
        Objects.requireNonNull(verdict, "verdict");
        matched = List.copyOf(matched);
        timedOut = List.copyOf(timedOut);
        Objects.requireNonNull(elapsed, "elapsed");
    }

    /** What the session does with a client, by its score. */
    public enum Verdict {
        /** The score reached the threshold: refuse the client. */
        BLOCKED,
        /** The score is at or below the (negative) allowlist threshold: the client skips the other tests. */
        ALLOWLISTED,
        /** Neither. */
        NEUTRAL
    }

    public boolean blocked() {
        return verdict == Verdict.BLOCKED;
    }

    public boolean allowlisted() {
        return verdict == Verdict.ALLOWLISTED;
    }
}
