package dev.postern.proxy.dns;

import java.util.List;
import java.util.Objects;

/**
 * What a DNS lookup found: records, none (the name or the records do not exist), or no usable answer.
 *
 * @param <T> one record, decoded
 */
public sealed interface DnsAnswer<T> {

    /** The records found (none when this is not {@link Found}). */
    List<T> values();

    /**
     * Records of the asked type (following CNAMEs).
     *
     * @param values at least one
     * @param ttlSeconds the smallest TTL among them
     */
    record Found<T>(List<T> values, long ttlSeconds) implements DnsAnswer<T> {
        public Found {
            values = List.copyOf(values);
            if (values.isEmpty()) {
                throw new IllegalArgumentException("a found answer has records");
            }
        }
    }

    /**
     * The name does not exist (NXDOMAIN) or has no records of the asked type (NODATA): what RFC 7208 calls a void
     * lookup.
     *
     * @param nxdomain whether the name does not exist at all
     * @param ttlSeconds how long the absence may be cached (RFC 2308; 0 when the answer did not say)
     */
    record NoRecords<T>(boolean nxdomain, long ttlSeconds) implements DnsAnswer<T> {
        @Override
        public List<T> values() {
            return List.of();
        }
    }

    /**
     * No usable answer: the query timed out, or the server failed (SERVFAIL, REFUSED, ...). A temporary error in the
     * sense of RFC 7208 ({@code temperror}); never cached.
     *
     * @param reason {@code timeout}, {@code SERVFAIL}, ...
     */
    record Failed<T>(String reason) implements DnsAnswer<T> {
        public Failed {
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public List<T> values() {
            return List.of();
        }
    }
}
