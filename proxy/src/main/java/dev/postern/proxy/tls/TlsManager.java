package dev.postern.proxy.tls;

import dev.postern.config.CertificateConfig;
import dev.postern.config.ClientCertificatesConfig;
import dev.postern.config.TlsConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.Mapping;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of TLS: the certificates, chosen per connection by SNI, and the contexts that serve them, with hot
 * reload. Thread-safe.
 *
 * <p>Each connection gets a fresh handler from {@link #newServerHandler()}: first in the pipeline for implicit TLS,
 * or added first at STARTTLS time, on an empty inbound buffer and before the go-ahead reply is written (the reply
 * still goes out in plain text: the handler sends nothing before the client's ClientHello). When the ClientHello
 * arrives the handler picks the certificate for the SNI name from the mapping current at that moment and replaces
 * itself with an ordinary {@link SslHandler}, so later code finds protocol, cipher and session through {@code
 * pipeline.get(SslHandler.class)}; wait for {@link io.netty.handler.ssl.SslHandshakeCompletionEvent} before reading
 * them.
 *
 * <p>{@link #reload()} re-reads every file and builds new contexts, then swaps them in one step: new connections get
 * the new certificates, live ones keep the context they started with (the OpenSSL contexts are not reference
 * counted; the old ones are freed by the garbage collector when their last connection ends). A reload that fails
 * changes nothing.
 *
 * <p>Without configured certificates a self-signed one is generated at start, with a loud warning.
 */
public final class TlsManager {
    /**
     * The largest ClientHello accepted before the certificate is chosen. Real ones are well under 2 KiB, a few KiB
     * with post-quantum key shares; Netty's default of 64 KiB is more buffer per unauthenticated connection than
     * needed.
     */
    public static final int MAX_CLIENT_HELLO_LENGTH = 16 * 1024;

    private static final Logger log = LoggerFactory.getLogger(TlsManager.class);

    /** The generated certificate is kept across reloads unless it expires within this time. */
    private static final Duration REGENERATE_BEFORE_EXPIRY = Duration.ofDays(1);

    private final long handshakeTimeoutMillis;
    private final AtomicReference<Snapshot> current = new AtomicReference<>();
    private final Mapping<String, SslContext> liveMapping =
            hostname -> current.get().mapping().map(hostname);
    private final Object reloadLock = new Object();

    /** Guarded by {@link #reloadLock}. */
    private LoadedCertificate generated;

    private TlsManager(long handshakeTimeoutMillis) {
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    /**
     * Reads the certificates of {@code config} (or generates a self-signed one when there are none) and builds the
     * contexts. Logs the provider once at INFO and each certificate.
     *
     * @param handshakeTimeout how long a client has from the start of the handshake (the handler being added) to
     *     its end, ClientHello included; zero means no limit
     * @throws TlsSetupException with a one-line reason when a file, the provider, a protocol or the cipher list is
     *     wrong
     */
    public static TlsManager create(TlsConfig config, Duration handshakeTimeout) throws TlsSetupException {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        if (handshakeTimeout.isNegative()) {
            throw new IllegalArgumentException("handshakeTimeout must not be negative: " + handshakeTimeout);
        }
        TlsManager manager = new TlsManager(handshakeTimeout.toMillis());
        synchronized (manager.reloadLock) {
            Snapshot snapshot = manager.build(config);
            manager.current.set(snapshot);
            log.info("TLS provider: {}", snapshot.factory().description());
            logCertificates(snapshot);
        }
        return manager;
    }

    /**
     * A new handler for one connection; see the class comment. Enforces the handshake timeout and
     * {@link #MAX_CLIENT_HELLO_LENGTH}.
     */
    public ChannelHandler newServerHandler() {
        return new TimedSniHandler(liveMapping, MAX_CLIENT_HELLO_LENGTH, handshakeTimeoutMillis);
    }

    /**
     * Like {@link #newServerHandler()}, cheaper when one certificate serves every name (the common case) and the
     * provider is OpenSSL: then there is nothing to choose, and the handler is a plain {@link SslHandler} with that
     * certificate's context, which neither parses the ClientHello a second time nor replaces itself (together about
     * 2 % of the I/O threads' samples in a profile of IMAPS logins). The ClientHello stays bounded: BoringSSL refuses
     * a handshake message over 16 KiB on a server that does not ask for client certificates, which is {@link
     * #MAX_CLIENT_HELLO_LENGTH}. Such a handler serves the certificate current when it was made, and fires no {@link
     * io.netty.handler.ssl.SniCompletionEvent}.
     *
     * @param alloc the channel's allocator
     * @param startTls true when the handler goes in at STARTTLS time: the next write (the go-ahead reply) then still
     *     leaves in clear text
     */
    public ChannelHandler newServerHandler(ByteBufAllocator alloc, boolean startTls) {
        return tlsHandler(alloc, startTls, handshakeTimeoutMillis);
    }

    /**
     * Like {@link #newServerHandler(ByteBufAllocator, boolean)}, for a listener that accepts only the ALPN ids
     * {@code alpn}: a client that offers ALPN without any of them gets the {@code no_application_protocol} alert
     * and a failed {@link io.netty.handler.ssl.SslHandshakeCompletionEvent}; one that offers no ALPN is served. The
     * selected protocol is not echoed in the ServerHello. Empty {@code alpn}: no check.
     */
    public ChannelHandler newServerHandler(ByteBufAllocator alloc, boolean startTls, List<String> alpn) {
        if (alpn.isEmpty()) {
            return newServerHandler(alloc, startTls);
        }
        return new AlpnGuard(
                alpn,
                MAX_CLIENT_HELLO_LENGTH,
                startTls,
                handshakeTimeoutMillis,
                (ctx, clearFirstWrite, timeoutMillis) -> tlsHandler(ctx.alloc(), clearFirstWrite, timeoutMillis));
    }

    /**
     * Like {@link #newServerHandler(ByteBufAllocator, boolean, List)}, asking the client for a certificate as {@code
     * clientCertificates} says (prepared with {@link #prepare} first). Such a handler always reads the ClientHello
     * itself: BoringSSL allows handshake messages larger than {@link #MAX_CLIENT_HELLO_LENGTH} once it asks for
     * certificates, so only the SNI handler keeps the bound.
     */
    public ChannelHandler newServerHandler(
            ByteBufAllocator alloc, boolean startTls, List<String> alpn, ClientCertificatesConfig clientCertificates) {
        if (!clientCertificates.enabled()) {
            return newServerHandler(alloc, startTls, alpn);
        }
        if (current.get().verifying().get(clientCertificates) == null) {
            // a listener that start-up did not prepare (a reload's new one): once, on this connection
            try {
                prepare(clientCertificates);
            } catch (TlsSetupException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
        Mapping<String, SslContext> mapping =
                hostname -> current.get().verifying().get(clientCertificates).map(hostname);
        if (alpn.isEmpty()) {
            return new TimedSniHandler(mapping, MAX_CLIENT_HELLO_LENGTH, handshakeTimeoutMillis);
        }
        return new AlpnGuard(
                alpn,
                MAX_CLIENT_HELLO_LENGTH,
                startTls,
                handshakeTimeoutMillis,
                (ctx, clearFirstWrite, timeoutMillis) ->
                        new TimedSniHandler(mapping, MAX_CLIENT_HELLO_LENGTH, timeoutMillis));
    }

    /**
     * Reads the CA bundle and CRLs of {@code clientCertificates} and builds contexts that ask for client certificates
     * against them, for every certificate served; reloads rebuild them too. Call once per listener at start.
     *
     * @throws TlsSetupException when a file cannot be read or used
     */
    public void prepare(ClientCertificatesConfig clientCertificates) throws TlsSetupException {
        if (!clientCertificates.enabled()) {
            return;
        }
        synchronized (reloadLock) {
            Snapshot snapshot = current.get();
            if (!snapshot.verifying().containsKey(clientCertificates)) {
                snapshot.verifying()
                        .put(
                                clientCertificates,
                                ClientTrust.contexts(snapshot.factory(), snapshot.loaded(), clientCertificates));
            }
        }
    }

    private ChannelHandler tlsHandler(ByteBufAllocator alloc, boolean startTls, long timeoutMillis) {
        SslContext only = current.get().single();
        if (only == null) {
            return new TimedSniHandler(liveMapping, MAX_CLIENT_HELLO_LENGTH, timeoutMillis);
        }
        SslHandler handler = new SslHandler(only.newEngine(alloc), startTls);
        handler.setHandshakeTimeoutMillis(timeoutMillis);
        return handler;
    }

    /**
     * Re-reads all certificate and key files of the current config and swaps in new contexts for new connections.
     *
     * @throws TlsSetupException with the reason; the certificates served before stay in place
     */
    public void reload() throws TlsSetupException {
        synchronized (reloadLock) {
            reload(current.get().config());
        }
    }

    /**
     * Like {@link #reload()}, with new TLS settings (certificates, protocols, ciphers, session cache, even the
     * provider) for new connections.
     *
     * @throws TlsSetupException with the reason; the certificates and settings in place stay
     */
    public void reload(TlsConfig config) throws TlsSetupException {
        Objects.requireNonNull(config, "config");
        synchronized (reloadLock) {
            Snapshot previous = current.get();
            Snapshot next = build(config);
            for (ClientCertificatesConfig clientCertificates :
                    previous.verifying().keySet()) {
                next.verifying()
                        .put(
                                clientCertificates,
                                ClientTrust.contexts(next.factory(), next.loaded(), clientCertificates));
            }
            current.set(next);
            if (!next.factory().description().equals(previous.factory().description())) {
                log.info("TLS provider: {}", next.factory().description());
            }
            logCertificates(next);
        }
    }

    /** The certificates served now, in config order. */
    public List<CertificateInfo> certificates() {
        return current.get().certificates();
    }

    /** The TLS implementation in use, e.g. {@code OpenSSL (BoringSSL, ...)} or {@code JDK (SunJSSE 17)}. */
    public String providerDescription() {
        return current.get().factory().description();
    }

    /** The TLS implementation in use: {@code OPENSSL} or {@code JDK}, never {@code AUTO}. */
    public TlsConfig.Provider provider() {
        return current.get().factory().provider();
    }

    /**
     * A client context for TLS connections to backends, with the provider's default protocols and ciphers. Shared;
     * create handlers with {@code newHandler(alloc, host, port)} so that SNI is sent and, when verifying, the host
     * name is checked.
     *
     * @param verify {@code true}: the backend's chain must lead to the JDK's default trust store and its certificate
     *     must name the host given to {@code newHandler} (HTTPS-style endpoint identification). {@code false}: any
     *     certificate is accepted and no name is checked, which gives encryption without authentication, open to a
     *     man in the middle; only for legacy backends with self-made certificates on a private network.
     */
    public SslContext clientContext(boolean verify) {
        try {
            return current.get().factory().clientContext(verify);
        } catch (TlsSetupException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** A verifying client context trusting {@code trust} instead of the JDK's store; for tests. */
    SslContext clientContext(TrustManagerFactory trust) throws TlsSetupException {
        return current.get().factory().clientContext(trust);
    }

    private Snapshot build(TlsConfig config) throws TlsSetupException {
        ContextFactory factory = ContextFactory.create(config);
        List<LoadedCertificate> loaded = new ArrayList<>();
        if (config.certificates().isEmpty()) {
            loaded.add(selfSigned());
        } else {
            for (CertificateConfig certificate : config.certificates()) {
                loaded.add(LoadedCertificate.load(certificate));
            }
        }
        LoadedCertificate defaultCertificate = defaultCertificate(loaded);

        SniMapping.Builder<SslContext> mapping = SniMapping.builder();
        List<CertificateInfo> infos = new ArrayList<>();
        for (LoadedCertificate certificate : loaded) {
            SslContext context = factory.serverContext(certificate.name(), certificate.key(), certificate.chain());
            List<String> served = new ArrayList<>();
            for (String name : certificate.sniNames()) {
                if (mapping.add(name, context) == context) {
                    served.add(name);
                } else {
                    log.warn(
                            "TLS certificate '{}': {} is already served by an earlier certificate; not by this one",
                            certificate.name(),
                            name);
                }
            }
            boolean isDefault = certificate == defaultCertificate;
            if (isDefault) {
                mapping.defaultValue(context);
            }
            infos.add(new CertificateInfo(
                    certificate.name(),
                    certificate.subject(),
                    LoadedCertificate.dnsNames(certificate.leaf()),
                    certificate.notAfter(),
                    served,
                    isDefault,
                    factory.provider(),
                    certificate.generated()));
        }
        SslContext single = loaded.size() == 1 && factory.provider() == TlsConfig.Provider.OPENSSL
                ? mapping.build().defaultValue()
                : null;
        return new Snapshot(
                config,
                factory,
                mapping.build(),
                List.copyOf(infos),
                single,
                List.copyOf(loaded),
                new ConcurrentHashMap<>());
    }

    static LoadedCertificate defaultCertificate(List<LoadedCertificate> loaded) throws TlsSetupException {
        List<LoadedCertificate> marked =
                loaded.stream().filter(LoadedCertificate::isDefault).toList();
        if (marked.size() > 1) {
            throw new TlsSetupException("tls.certificates: more than one default certificate: "
                    + marked.stream().map(c -> "'" + c.name() + "'").toList());
        }
        return marked.isEmpty() ? loaded.get(0) : marked.get(0);
    }

    private LoadedCertificate selfSigned() throws TlsSetupException {
        Instant now = Instant.now();
        if (generated == null || generated.notAfter().isBefore(now.plus(REGENERATE_BEFORE_EXPIRY))) {
            generated = SelfSignedFallback.generate(now);
            log.warn(
                    "no TLS certificate configured: using a self-signed certificate generated at start; clients will"
                            + " not trust it; configure tls.certificates ({}, valid until {})",
                    generated.subject(),
                    generated.notAfter());
        }
        return generated;
    }

    private static void logCertificates(Snapshot snapshot) {
        for (CertificateInfo info : snapshot.certificates()) {
            log.info(
                    "TLS certificate '{}': {}, SNI {}, expires {}{}",
                    info.name(),
                    info.subject(),
                    info.sniNames(),
                    info.notAfter(),
                    info.isDefault() ? ", default" : "");
        }
    }

    /**
     * One consistent state: what {@link #reload} swaps.
     *
     * @param single the context of the only certificate when no choice is to be made, else null
     * @param loaded the certificates, for the contexts of listeners that ask for client certificates
     * @param verifying per client-certificate policy, the contexts that ask for certificates (filled by {@link
     *     #prepare} and carried over by reloads)
     */
    private record Snapshot(
            TlsConfig config,
            ContextFactory factory,
            SniMapping<SslContext> mapping,
            List<CertificateInfo> certificates,
            SslContext single,
            List<LoadedCertificate> loaded,
            Map<ClientCertificatesConfig, SniMapping<SslContext>> verifying) {}
}
