package dev.postern.config;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * One listening socket and how it treats its clients. Timeouts and limits are already resolved (global defaults with
 * this listener's overrides applied).
 *
 * @param name unique name, used in logs and metric labels
 * @param protocol what the listener speaks
 * @param bind address and port to listen on
 * @param tls implicit TLS, STARTTLS offered, or none
 * @param pool the backend pool sessions of this listener go to (routes may choose another, once they exist); always
 *     present for {@link Protocol#TCP} listeners, optional for the others
 * @param allowPlaintextAuth accept credentials on a connection without TLS (off by default)
 * @param startTlsPipelining what to do with bytes that follow a STARTTLS command before the handshake
 * @param timeouts resolved timeouts
 * @param limits resolved limits
 * @param auth the names of the providers that decide a login, asked in order (the first that knows the user
 *     decides); {@code backend} lets the backend decide and can only come last. Default: {@code [backend]}
 * @param smtp the SMTP block: role and relay policy ({@link SmtpConfig#DEFAULTS} for other protocols)
 * @param proxyProtocol whether connections start with a PROXY protocol header, and from where ({@link
 *     ProxyProtocolConfig#OFF} by default)
 * @param alpn the ALPN protocol ids a TLS client may offer (RFC 9325, the ALPACA attack): a client that offers ALPN
 *     without any of these fails the handshake with {@code no_application_protocol}, one that offers none is
 *     accepted; empty means not enforced. Default: the listener's protocol ({@code imap}, {@code pop3}, {@code
 *     smtp}); nothing for {@code tcp} listeners ({@link #defaultAlpn})
 * @param throttled whether the brute-force throttle ({@code auth.throttle}) counts, delays and refuses this listener's
 *     logins; true unless the listener says {@code throttle: off} (a webmail-only listener that sees one address for
 *     all its users). Without a throttle ({@code auth: {throttle: off}}) nothing is throttled either way
 * @param clientCertificates whether TLS clients are asked for a certificate, against which CAs, and where SASL
 *     EXTERNAL finds the user ({@link ClientCertificatesConfig#OFF} by default)
 */
public record ListenerConfig(
        String name,
        Protocol protocol,
        HostPort bind,
        TlsMode tls,
        Optional<String> pool,
        boolean allowPlaintextAuth,
        StartTlsPipelining startTlsPipelining,
        TimeoutsConfig timeouts,
        LimitsConfig limits,
        List<String> auth,
        SmtpConfig smtp,
        ProxyProtocolConfig proxyProtocol,
        List<String> alpn,
        boolean throttled,
        ClientCertificatesConfig clientCertificates) {

    public ListenerConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(startTlsPipelining, "startTlsPipelining");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(limits, "limits");
        auth = List.copyOf(auth);
        if (auth.isEmpty()) {
            throw new IllegalArgumentException("auth: at least one provider");
        }
        Objects.requireNonNull(smtp, "smtp");
        Objects.requireNonNull(proxyProtocol, "proxyProtocol");
        alpn = List.copyOf(alpn);
        Objects.requireNonNull(clientCertificates, "clientCertificates");
    }

    /**
     * The ALPN ids a listener of {@code protocol} accepts unless configured: its own (the IANA ids {@code imap},
     * {@code pop3}, {@code smtp}); none, that is no check, for {@code tcp}, which does not know what it carries.
     */
    public static List<String> defaultAlpn(Protocol protocol) {
        return protocol == Protocol.TCP ? List.of() : List.of(protocol.configName());
    }

    /** This listener with {@code proxyProtocol} instead of its own. */
    public ListenerConfig withProxyProtocol(ProxyProtocolConfig proxyProtocol) {
        return new ListenerConfig(
                name,
                protocol,
                bind,
                tls,
                pool,
                allowPlaintextAuth,
                startTlsPipelining,
                timeouts,
                limits,
                auth,
                smtp,
                proxyProtocol,
                alpn,
                throttled,
                clientCertificates);
    }

    /** This listener with {@code clientCertificates} instead of its own. */
    public ListenerConfig withClientCertificates(ClientCertificatesConfig clientCertificates) {
        return new ListenerConfig(
                name,
                protocol,
                bind,
                tls,
                pool,
                allowPlaintextAuth,
                startTlsPipelining,
                timeouts,
                limits,
                auth,
                smtp,
                proxyProtocol,
                alpn,
                throttled,
                clientCertificates);
    }

    /**
     * A listener with every optional part at its default: logins decided by the backend ({@code auth: [backend]}), the
     * SMTP defaults, no PROXY header, its protocol's ALPN, throttled. Tests and tools; the reader uses the full form.
     */
    public ListenerConfig(
            String name,
            Protocol protocol,
            HostPort bind,
            TlsMode tls,
            Optional<String> pool,
            boolean allowPlaintextAuth,
            StartTlsPipelining startTlsPipelining,
            TimeoutsConfig timeouts,
            LimitsConfig limits) {
        this(
                name,
                protocol,
                bind,
                tls,
                pool,
                allowPlaintextAuth,
                startTlsPipelining,
                timeouts,
                limits,
                List.of(AuthConfig.BACKEND),
                SmtpConfig.DEFAULTS,
                ProxyProtocolConfig.OFF,
                defaultAlpn(protocol),
                true,
                ClientCertificatesConfig.OFF);
    }

    /** Policy for bytes a client pipelines after STARTTLS (the CVE-2011-0411 class). */
    public enum StartTlsPipelining {
        /** Close the connection: the safe default. */
        CLOSE,
        /** Drop the bytes and carry on with the handshake. */
        DISCARD;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
