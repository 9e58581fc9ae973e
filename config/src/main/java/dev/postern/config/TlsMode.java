package dev.postern.config;

import java.util.Locale;

/** How a listener (or a backend) uses TLS. */
public enum TlsMode {
    /** TLS from the first byte (993, 995, 465). */
    IMPLICIT,
    /** Plain text until the client asks for STARTTLS / STLS (143, 110, 587, 25). */
    STARTTLS,
    /** Never TLS. */
    NONE;

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
