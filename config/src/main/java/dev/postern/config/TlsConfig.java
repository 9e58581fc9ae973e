package dev.postern.config;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Server-side TLS settings shared by every TLS listener.
 *
 * @param provider which TLS implementation to use
 * @param protocols enabled protocol versions, e.g. {@code TLSv1.3}, {@code TLSv1.2}
 * @param ciphers TLS 1.2 cipher suites (IANA names); TLS 1.3 suites are the implementation's defaults
 * @param certificates certificates chosen by SNI; empty means "generate a self-signed one at start"
 * @param sessionCacheSize server-side session cache entries for resumption
 * @param sessionTimeout how long a session can be resumed
 */
public record TlsConfig(
        Provider provider,
        List<String> protocols,
        List<String> ciphers,
        List<CertificateConfig> certificates,
        int sessionCacheSize,
        Duration sessionTimeout) {

    public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** Forward-secret AEAD suites only, ECDSA first (the Mozilla "intermediate" list for TLS 1.2). */
    public static final List<String> DEFAULT_CIPHERS = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    public static final TlsConfig DEFAULTS =
            new TlsConfig(Provider.AUTO, DEFAULT_PROTOCOLS, DEFAULT_CIPHERS, List.of(), 20_000, Duration.ofHours(1));

    public TlsConfig {
        Objects.requireNonNull(provider, "provider");
        protocols = List.copyOf(protocols);
        ciphers = List.copyOf(ciphers);
        certificates = List.copyOf(certificates);
        Objects.requireNonNull(sessionTimeout, "sessionTimeout");
    }

    /** TLS implementation. */
    public enum Provider {
        /** BoringSSL (netty-tcnative) when it loads, else the JDK. */
        AUTO,
        /** BoringSSL through netty-tcnative; start fails if it does not load. */
        OPENSSL,
        /** The JDK's own provider. */
        JDK;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
