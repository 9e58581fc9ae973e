package dev.postern.proxy.tls;

import dev.postern.config.TlsConfig;
import dev.postern.proxy.metrics.CertificateExpiry;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What one served certificate is, for log lines, the admin API and the expiry metric. Holds no key material.
 *
 * @param name the label from the config ({@code self-signed} for the generated fallback)
 * @param subject the leaf's subject, RFC 2253 ({@code CN=mail.example.com,O=Example})
 * @param dnsNames the DNS names among the leaf's subject alternative names
 * @param notAfter when the leaf expires
 * @param sniNames the names SNI picks this certificate for (lower case; {@code *.domain} for wildcards); a name
 *     claimed by an earlier certificate in the config is not listed
 * @param isDefault whether clients without SNI, or with an unknown name, get this certificate
 * @param provider the TLS implementation serving it ({@code OPENSSL} or {@code JDK}, never {@code AUTO})
 * @param generated whether this is the self-signed certificate generated at start because none is configured
 */
public record CertificateInfo(
        String name,
        String subject,
        List<String> dnsNames,
        Instant notAfter,
        List<String> sniNames,
        boolean isDefault,
        TlsConfig.Provider provider,
        boolean generated)
        implements CertificateExpiry {

    public CertificateInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(subject, "subject");
        dnsNames = List.copyOf(dnsNames);
        Objects.requireNonNull(notAfter, "notAfter");
        sniNames = List.copyOf(sniNames);
        Objects.requireNonNull(provider, "provider");
    }
}
