package dev.postern.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The DNS resolver that the SMTP edge's checks (DNSBL/DNSWL, SPF) share.
 *
 * @param servers the name servers to ask, in order (the next one when a query fails); empty uses the system's ({@code
 *     /etc/resolv.conf})
 * @param timeout how long one query may take (each server is asked once)
 * @param cacheMinTtl answers are kept at least this long, even when their TTL is shorter (0: as the TTL says)
 * @param cacheMaxTtl answers are kept at most this long (0: no caching)
 */
public record DnsConfig(List<HostPort> servers, Duration timeout, Duration cacheMinTtl, Duration cacheMaxTtl) {
    public static final DnsConfig DEFAULTS =
            new DnsConfig(List.of(), Duration.ofSeconds(2), Duration.ZERO, Duration.ofDays(1));

    public DnsConfig {
        servers = List.copyOf(servers);
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(cacheMinTtl, "cacheMinTtl");
        Objects.requireNonNull(cacheMaxTtl, "cacheMaxTtl");
        if (cacheMinTtl.compareTo(cacheMaxTtl) > 0) {
            throw new IllegalArgumentException("cacheMinTtl " + cacheMinTtl + " > cacheMaxTtl " + cacheMaxTtl);
        }
    }

    /** Whether the system's name servers are used. */
    public boolean systemServers() {
        return servers.isEmpty();
    }
}
