package dev.postern.proxy.dns;

import java.util.Objects;

/**
 * One mail exchanger of a domain.
 *
 * @param preference lower is preferred
 * @param host the exchanger's name, without the trailing dot; empty for a null MX (RFC 7505)
 */
public record MxRecord(int preference, String host) {
    public MxRecord {
        Objects.requireNonNull(host, "host");
    }
}
