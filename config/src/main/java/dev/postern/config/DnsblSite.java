package dev.postern.config;

import java.util.Objects;
import java.util.Optional;

/**
 * One DNS block or allow list, written like Postfix's {@code postscreen_dnsbl_sites}: {@code zone[=filter][*weight]},
 * e.g. {@code zen.example.test=127.0.0.[2..11]*3} or {@code wl.example.test=127.0.[0..255].[1..255]*-2}.
 *
 * @param zone the list's DNS zone, lowercase, without a trailing dot
 * @param filter which answers count; empty: any address does
 * @param weight what a listing adds to the client's score; negative for an allow list, never 0
 */
public record DnsblSite(String zone, Optional<DnsblReplyFilter> filter, int weight) {
    public DnsblSite {
        Objects.requireNonNull(zone, "zone");
        Objects.requireNonNull(filter, "filter");
        if (weight == 0) {
            throw new IllegalArgumentException("weight 0 has no effect");
        }
    }

    /** Whether an answer address of this list counts toward the score. */
    public boolean matches(byte[] address) {
        return filter.map(f -> f.matches(address)).orElse(address.length == 4);
    }

    /** As written in the configuration (the weight only when it is not 1). */
    @Override
    public String toString() {
        return zone + filter.map(f -> "=" + f).orElse("") + (weight == 1 ? "" : "*" + weight);
    }
}
