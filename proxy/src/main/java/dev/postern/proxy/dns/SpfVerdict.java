package dev.postern.proxy.dns;

import java.util.Locale;

/** The results of an SPF check (RFC 7208 section 2.6). */
public enum SpfVerdict {
    /** No SPF record, or no domain to check. */
    NONE,
    /** The domain asserts nothing about the client ({@code ?}, or no mechanism matched). */
    NEUTRAL,
    /** The client may send for the domain ({@code +}). */
    PASS,
    /** The client may not send for the domain ({@code -}). */
    FAIL,
    /** Probably not allowed, but the domain is not sure ({@code ~}). */
    SOFTFAIL,
    /** A transient DNS error; trying later may succeed. */
    TEMPERROR,
    /** The domain's records are broken and need an operator. */
    PERMERROR;

    /** As in a {@code Received-SPF} header: {@code pass}, {@code softfail}, ... */
    public String token() {
        return name().toLowerCase(Locale.ROOT);
    }
}
