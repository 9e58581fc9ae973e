package dev.postern.admin;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A served certificate as the admin API shows it. Holds no key material.
 *
 * @param name its label in the configuration ({@code self-signed} for the generated fallback)
 * @param subject the leaf's subject, RFC 2253
 * @param dnsNames the DNS names among its subject alternative names
 * @param notAfter when it expires
 * @param sniNames the names SNI picks it for
 * @param isDefault whether clients without SNI, or with an unknown name, get it
 * @param generated whether it is the self-signed certificate made at start because none is configured
 */
public record CertificateView(
        String name,
        String subject,
        List<String> dnsNames,
        Instant notAfter,
        List<String> sniNames,
        boolean isDefault,
        boolean generated) {
    public CertificateView {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(subject, "subject");
        dnsNames = List.copyOf(dnsNames);
        Objects.requireNonNull(notAfter, "notAfter");
        sniNames = List.copyOf(sniNames);
    }
}
