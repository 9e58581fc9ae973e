package dev.postern.config;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code smtp} block of an SMTP listener: what the listener is for (submission or the port-25 relay) and, for a
 * relay, the edge's policy: local domains, trusted networks, the data rules, the zombie tests (pregreet, DNS lists)
 * and their memory, SPF, and the limits per client.
 *
 * @param role submission (clients log in) or relay (other servers deliver mail for the local domains)
 * @param hostname the name in the greeting and in Postern's EHLO to backends; empty: the machine's host name
 * @param localDomains domains Postern accepts mail for besides those the routes know (lowercase)
 * @param trustedNetworks clients that may relay to any domain and skip the zombie tests
 * @param requireTls the relay refuses mail transactions before STARTTLS
 * @param maxMessageSize the largest message in bytes (offered as SIZE, checked while the data flows)
 * @param bareLineEndings what a bare LF or bare CR in message data gets
 * @param pregreet the pregreet test; empty: off
 * @param dnsbl DNS block and allow lists ({@code dnsbl}); empty: off
 * @param dnsblAction what a client the lists block gets
 * @param allowlist clients that skip the zombie tests (they may not relay, unlike trusted networks)
 * @param passedCache how long a client that passed the zombie tests skips them; zero: never remembered
 * @param spf SPF checks of the sender ({@code spf}; {@link SpfConfig#OFF} when absent)
 * @param limits limits per client address
 */
public record SmtpConfig(
        Role role,
        Optional<String> hostname,
        List<String> localDomains,
        List<Cidr> trustedNetworks,
        boolean requireTls,
        long maxMessageSize,
        BareLineEndings bareLineEndings,
        Optional<Pregreet> pregreet,
        Optional<DnsblConfig> dnsbl,
        DnsblAction dnsblAction,
        List<Cidr> allowlist,
        Duration passedCache,
        SpfConfig spf,
        Limits limits) {

    public static final long DEFAULT_MAX_MESSAGE_SIZE = 50L * 1024 * 1024;
    public static final Duration DEFAULT_PASSED_CACHE = Duration.ofHours(1);

    /** A submission listener with every default. */
    public static final SmtpConfig DEFAULTS = new SmtpConfig(
            Role.SUBMISSION,
            Optional.empty(),
            List.of(),
            List.of(),
            false,
            DEFAULT_MAX_MESSAGE_SIZE,
            BareLineEndings.REJECT,
            Optional.empty(),
            Optional.empty(),
            DnsblAction.DROP,
            List.of(),
            DEFAULT_PASSED_CACHE,
            SpfConfig.OFF,
            Limits.DEFAULTS);

    public SmtpConfig {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(hostname, "hostname");
        localDomains = List.copyOf(localDomains);
        trustedNetworks = List.copyOf(trustedNetworks);
        Objects.requireNonNull(bareLineEndings, "bareLineEndings");
        Objects.requireNonNull(pregreet, "pregreet");
        Objects.requireNonNull(dnsbl, "dnsbl");
        Objects.requireNonNull(dnsblAction, "dnsblAction");
        allowlist = List.copyOf(allowlist);
        Objects.requireNonNull(passedCache, "passedCache");
        Objects.requireNonNull(spf, "spf");
        Objects.requireNonNull(limits, "limits");
        if (maxMessageSize < 1) {
            throw new IllegalArgumentException("maxMessageSize " + maxMessageSize + " must be >= 1");
        }
    }

    /** What an SMTP listener is for. */
    public enum Role {
        /** Message submission (RFC 6409): clients log in before sending; the session is relayed after AUTH. */
        SUBMISSION,
        /** The MX edge on port 25: mail for the local domains, no AUTH, Postern in the dialogue to the end. */
        RELAY;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What a bare LF or bare CR in message data gets (the SMTP smuggling class). */
    public enum BareLineEndings {
        /** The message is refused ({@code 521 5.5.2}) and the connection closed. */
        REJECT,
        /** It becomes CRLF (a line that then starts with a dot gets one more, so the content stays the same). */
        NORMALIZE
    }

    /** What a client that the DNS lists block gets. */
    public enum DnsblAction {
        /** {@code 521} instead of the greeting, then the connection is closed. */
        DROP,
        /** A normal greeting, then {@code 550} to every RCPT (the client's attempts show in the logs). */
        ENFORCE
    }

    /**
     * The pregreet test: Postern sends the first line of a multi-line greeting and waits; a client that talks before
     * the greeting is complete is a zombie that does not wait for its turn.
     *
     * @param banner the text of the first greeting line ({@code 220-banner})
     * @param delay how long to wait before the rest of the greeting
     */
    public record Pregreet(String banner, Duration delay) {
        public Pregreet {
            Objects.requireNonNull(banner, "banner");
            Objects.requireNonNull(delay, "delay");
        }
    }

    /**
     * Limits per client address (an IPv6 client counts by its /64). 0 turns a limit off.
     *
     * @param connectionsPerClient concurrent connections
     * @param connectionsPerMinute new connections per minute
     * @param messagesPerConnection mail transactions per connection
     * @param recipientsPerMessage recipients per transaction (RFC 5321 asks servers to take at least 100)
     * @param errorsPerSession error replies before the connection is closed
     */
    public record Limits(
            int connectionsPerClient,
            int connectionsPerMinute,
            int messagesPerConnection,
            int recipientsPerMessage,
            int errorsPerSession) {
        public static final Limits DEFAULTS = new Limits(20, 60, 100, 100, 20);
    }
}
