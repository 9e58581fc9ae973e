package dev.postern.proxy.dns;

import java.util.concurrent.CompletionStage;

/**
 * Asynchronous DNS lookups for the SMTP edge's checks. The stage never completes exceptionally: timeouts and server
 * failures are {@link DnsAnswer.Failed}, NXDOMAIN and NODATA {@link DnsAnswer.NoRecords}. A name that cannot exist
 * (an empty or over-long label, more than 253 characters, non-ASCII) is {@code NoRecords} without a query.
 */
public interface DnsClient {
    /**
     * Looks up the records of {@code type} at {@code name} (case-insensitive, with or without the trailing dot).
     * Never blocks; the stage completes on the resolver's event loop, or at once from a cache.
     */
    <T> CompletionStage<DnsAnswer<T>> lookup(String name, DnsType<T> type);
}
