package dev.postern.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A certificate chain and its private key, in PEM files.
 *
 * @param name a label for logs and the admin API
 * @param cert the PEM file with the leaf certificate first, then the intermediates
 * @param key the PEM file with the private key (PKCS#1, PKCS#8, encrypted PKCS#8 or SEC1)
 * @param keyPassword the password of an encrypted key
 * @param sni host names this certificate answers for (exact or {@code *.domain}); empty means the names in the
 *     certificate (subject alternative names, else the common name)
 * @param isDefault the certificate for clients that send no SNI or an unknown name
 */
public record CertificateConfig(
        String name, Path cert, Path key, Optional<Secret> keyPassword, List<String> sni, boolean isDefault) {

    public CertificateConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(cert, "cert");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(keyPassword, "keyPassword");
        sni = List.copyOf(sni);
    }
}
