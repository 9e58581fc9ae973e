package dev.postern.config;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One backend server.
 *
 * @param id unique within its pool
 * @param host name or address
 * @param port the port used when {@code ports} has no entry for the listener's protocol; 0 when the backend only has
 *     per-protocol ports (the loader makes sure every pool a listener uses has a port for its protocol)
 * @param ports per-protocol ports (a Dovecot serving IMAP and POP3 on one host)
 * @param weight relative share of new sessions (1-1000)
 * @param state whether it takes new sessions
 * @param maxSessions concurrent sessions it may hold (0 = unlimited)
 * @param tls TLS towards the backend
 * @param tlsVerify verify the backend's certificate (off only for legacy backends on a private network)
 * @param identity how the client's real address is passed on
 * @param master log in as this master user on the user's behalf (Dovecot master users), instead of with the user's
 *     own credentials; empty to relay the user's credentials
 */
public record Backend(
        String id,
        String host,
        int port,
        Map<Protocol, Integer> ports,
        int weight,
        State state,
        int maxSessions,
        TlsMode tls,
        boolean tlsVerify,
        Identity identity,
        Optional<MasterLogin> master) {

    public Backend {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(host, "host");
        ports = Map.copyOf(ports);
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(master, "master");
    }

    /**
     * A master user's credentials: Postern logs in as this user with the session's user as authorization identity
     * (SASL PLAIN {@code user NUL master NUL password}).
     *
     * @param user the master user name
     * @param password its password
     */
    public record MasterLogin(String user, Secret password) {
        public MasterLogin {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(password, "password");
        }
    }

    /** This backend logging in with the user's own credentials (no master user). */
    public Backend withoutMaster() {
        return master.isEmpty()
                ? this
                : new Backend(
                        id, host, port, ports, weight, state, maxSessions, tls, tlsVerify, identity, Optional.empty());
    }

    /** The port to connect to for sessions of {@code protocol}; 0 when it has none for that protocol. */
    public int portFor(Protocol protocol) {
        return ports.getOrDefault(protocol, port);
    }

    /** Whether a backend takes new sessions. */
    public enum State {
        ACTIVE,
        DRAINING,
        DISABLED;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How the client's address reaches the backend. */
    public enum Identity {
        NONE,
        /** IMAP ID with x-originating-ip and friends (Dovecot). */
        ID,
        /** SMTP/POP3 XCLIENT (Postfix, Dovecot). */
        XCLIENT,
        /** A PROXY protocol v2 header before the first byte. */
        PROXY_V2;

        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }
}
