package dev.postern.proxy.tls;

import dev.postern.config.ClientCertificatesConfig;
import dev.postern.config.TlsConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds Netty {@link SslContext}s for one resolved provider and one set of protocols, ciphers and session settings,
 * all checked up front. Immutable apart from the memoized client contexts.
 */
final class ContextFactory {
    private static final Logger log = LoggerFactory.getLogger(ContextFactory.class);

    private static final Set<String> OPENSSL_PROTOCOLS = Set.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");

    private final TlsConfig.Provider provider;
    private final SslProvider sslProvider;
    private final String description;
    private final List<String> protocols;
    private final List<String> ciphers;
    private final long sessionCacheSize;
    private final long sessionTimeoutSeconds;
    private volatile SslContext verifyingClient;
    private volatile SslContext trustingClient;

    private ContextFactory(
            TlsConfig.Provider provider,
            String description,
            List<String> protocols,
            List<String> ciphers,
            long sessionCacheSize,
            long sessionTimeoutSeconds) {
        this.provider = provider;
        this.sslProvider = provider == TlsConfig.Provider.OPENSSL ? SslProvider.OPENSSL : SslProvider.JDK;
        this.description = description;
        this.protocols = List.copyOf(protocols);
        this.ciphers = List.copyOf(ciphers);
        this.sessionCacheSize = sessionCacheSize;
        this.sessionTimeoutSeconds = sessionTimeoutSeconds;
    }

    /** Resolves the provider and checks protocols and ciphers against what it supports. */
    static ContextFactory create(TlsConfig config) throws TlsSetupException {
        TlsConfig.Provider provider = resolve(config.provider());
        String description = describe(provider);
        List<String> protocols = config.protocols().isEmpty() ? TlsConfig.DEFAULT_PROTOCOLS : config.protocols();
        Set<String> supportedProtocols = provider == TlsConfig.Provider.OPENSSL
                ? OPENSSL_PROTOCOLS
                : Set.copyOf(
                        Arrays.asList(jdkContext().getSupportedSSLParameters().getProtocols()));
        for (String protocol : protocols) {
            if (!supportedProtocols.contains(protocol)) {
                throw new TlsSetupException("tls.protocols: " + protocol + " is not supported by the "
                        + provider.configName() + " provider");
            }
        }
        if (protocols.contains("TLSv1.3") && !SslProvider.isTlsv13Supported(sslProviderOf(provider))) {
            throw new TlsSetupException(
                    "tls.protocols: TLSv1.3 is not supported by the " + provider.configName() + " provider");
        }
        List<String> ciphers = ciphers(config, provider, protocols);
        if (config.sessionCacheSize() < 0) {
            throw new TlsSetupException("tls.session-cache-size: must not be negative: " + config.sessionCacheSize());
        }
        if (config.sessionTimeout().isNegative()) {
            throw new TlsSetupException("tls.session-timeout: must not be negative: " + config.sessionTimeout());
        }
        return new ContextFactory(
                provider,
                description,
                protocols,
                ciphers,
                config.sessionCacheSize(),
                config.sessionTimeout().toSeconds());
    }

    TlsConfig.Provider provider() {
        return provider;
    }

    String description() {
        return description;
    }

    List<String> ciphers() {
        return ciphers;
    }

    /** A server context presenting {@code chain} (leaf first) with {@code key}. */
    SslContext serverContext(String name, PrivateKey key, List<X509Certificate> chain) throws TlsSetupException {
        return serverContext(name, key, chain, null, null);
    }

    /**
     * Like {@link #serverContext(String, PrivateKey, List)}, asking clients for a certificate that leads to {@code
     * trust}; {@code mode} null: no certificate asked for.
     */
    SslContext serverContext(
            String name,
            PrivateKey key,
            List<X509Certificate> chain,
            ClientCertificatesConfig.Mode mode,
            TrustManagerFactory trust)
            throws TlsSetupException {
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new));
            if (mode != null && mode != ClientCertificatesConfig.Mode.OFF) {
                builder.trustManager(trust)
                        .clientAuth(
                                mode == ClientCertificatesConfig.Mode.REQUIRED
                                        ? ClientAuth.REQUIRE
                                        : ClientAuth.OPTIONAL);
            }
            return builder.sslProvider(sslProvider)
                    .protocols(protocols)
                    .ciphers(ciphers, IdentityCipherSuiteFilter.INSTANCE)
                    .sessionCacheSize(sessionCacheSize)
                    .sessionTimeout(sessionTimeoutSeconds)
                    .build();
        } catch (SSLException | RuntimeException e) {
            throw new TlsSetupException(
                    "certificate '" + name + "': cannot build the TLS context (" + e.getMessage() + ")", e);
        }
    }

    /** Memoized; see {@link TlsManager#clientContext(boolean)}. */
    SslContext clientContext(boolean verify) throws TlsSetupException {
        SslContext context = verify ? verifyingClient : trustingClient;
        if (context == null) {
            synchronized (this) {
                context = verify ? verifyingClient : trustingClient;
                if (context == null) {
                    context = verify ? clientContext((TrustManagerFactory) null) : insecureClientContext();
                    if (verify) {
                        verifyingClient = context;
                    } else {
                        trustingClient = context;
                    }
                }
            }
        }
        return context;
    }

    /** A verifying client context; {@code trust} {@code null} means the JDK's default trust store. */
    SslContext clientContext(TrustManagerFactory trust) throws TlsSetupException {
        try {
            return SslContextBuilder.forClient()
                    .sslProvider(sslProvider)
                    .trustManager(trust)
                    .endpointIdentificationAlgorithm("HTTPS")
                    .build();
        } catch (SSLException | RuntimeException e) {
            throw new TlsSetupException("cannot build the TLS client context (" + e.getMessage() + ")", e);
        }
    }

    private SslContext insecureClientContext() throws TlsSetupException {
        try {
            return SslContextBuilder.forClient()
                    .sslProvider(sslProvider)
                    .trustManager(InsecureTrustManagerFactory.INSTANCE)
                    // Netty 4.2 verifies host names by default; a certificate we do not check has no name to check.
                    .endpointIdentificationAlgorithm(null)
                    .build();
        } catch (SSLException | RuntimeException e) {
            throw new TlsSetupException("cannot build the TLS client context (" + e.getMessage() + ")", e);
        }
    }

    private static TlsConfig.Provider resolve(TlsConfig.Provider configured) throws TlsSetupException {
        return switch (configured) {
            case AUTO -> {
                if (OpenSsl.isAvailable()) {
                    yield TlsConfig.Provider.OPENSSL;
                }
                log.debug("OpenSSL (netty-tcnative) does not load; using the JDK", OpenSsl.unavailabilityCause());
                yield TlsConfig.Provider.JDK;
            }
            case OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    Throwable cause = OpenSsl.unavailabilityCause();
                    throw new TlsSetupException(
                            "tls.provider is openssl but netty-tcnative (BoringSSL) does not load: "
                                    + (cause == null ? "unknown reason" : cause.getMessage()),
                            cause);
                }
                yield TlsConfig.Provider.OPENSSL;
            }
            case JDK -> TlsConfig.Provider.JDK;
        };
    }

    private static SslProvider sslProviderOf(TlsConfig.Provider provider) {
        return provider == TlsConfig.Provider.OPENSSL ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    private static String describe(TlsConfig.Provider provider) {
        if (provider == TlsConfig.Provider.OPENSSL) {
            int version = OpenSsl.version();
            return "OpenSSL (" + OpenSsl.versionString() + ", OpenSSL " + ((version >>> 28) & 0xF) + "."
                    + ((version >>> 20) & 0xFF) + "." + ((version >>> 12) & 0xFF) + " compatible)";
        }
        Provider jsse = jdkContext().getProvider();
        return "JDK (" + jsse.getName() + " " + jsse.getVersionStr() + ")";
    }

    /**
     * The TLS 1.2 suites from the config that the provider has (unknown ones are logged and skipped), then the TLS
     * 1.3 suites: the configured ones if any, else the provider's defaults. Netty takes one list for both versions,
     * and a list of TLS 1.2 suites alone would switch TLS 1.3 off in the JDK.
     */
    private static List<String> ciphers(TlsConfig config, TlsConfig.Provider provider, List<String> protocols)
            throws TlsSetupException {
        List<String> configured = config.ciphers().isEmpty() ? TlsConfig.DEFAULT_CIPHERS : config.ciphers();
        Set<String> supported;
        List<String> defaultTls13;
        if (provider == TlsConfig.Provider.OPENSSL) {
            supported = OpenSsl.availableJavaCipherSuites();
            defaultTls13 = supported.stream()
                    .filter(ContextFactory::isTls13Suite)
                    .sorted()
                    .toList();
        } else {
            SSLContext jdk = jdkContext();
            supported = Set.copyOf(Arrays.asList(jdk.getSupportedSSLParameters().getCipherSuites()));
            defaultTls13 = Arrays.stream(jdk.getDefaultSSLParameters().getCipherSuites())
                    .filter(ContextFactory::isTls13Suite)
                    .toList();
        }
        Set<String> tls12 = new LinkedHashSet<>();
        Set<String> tls13 = new LinkedHashSet<>();
        for (String cipher : configured) {
            if (!supported.contains(cipher)) {
                log.warn("tls.ciphers: {} is not supported by the {} provider; skipped", cipher, provider.configName());
            } else if (isTls13Suite(cipher)) {
                tls13.add(cipher);
            } else {
                tls12.add(cipher);
            }
        }
        if (protocols.contains("TLSv1.2") && tls12.isEmpty()) {
            throw new TlsSetupException("tls.ciphers: none of the TLS 1.2 cipher suites is supported by the "
                    + provider.configName() + " provider");
        }
        List<String> result = new ArrayList<>(tls12);
        if (protocols.contains("TLSv1.3")) {
            result.addAll(tls13.isEmpty() ? defaultTls13 : tls13);
        }
        return result;
    }

    /** TLS 1.3 suites have no key exchange in their name: {@code TLS_AES_128_GCM_SHA256}. */
    static boolean isTls13Suite(String cipher) {
        return cipher.startsWith("TLS_") && !cipher.contains("_WITH_") && !cipher.endsWith("_SCSV");
    }

    private static SSLContext jdkContext() {
        return JdkHolder.CONTEXT;
    }

    /** Only to ask the JDK what it supports; initialized once, on first use. */
    private static final class JdkHolder {
        static final SSLContext CONTEXT = newContext();

        private static SSLContext newContext() {
            try {
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(null, null, null);
                return context;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("the JDK has no TLS", e);
            }
        }
    }
}
