package dev.postern.proxy.metrics;

import java.time.Instant;

/** What the certificate expiry gauge reads of a served certificate at each scrape; the TLS layer's view implements it. */
public interface CertificateExpiry {
    /** The certificate's name in the configuration (the label). */
    String name();

    /** When its leaf expires. */
    Instant notAfter();
}
