package dev.postern.config;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * How a pool's backends are checked.
 *
 * @param enabled whether active checks run (passive observations always count)
 * @param protocol what to expect on the checked port: {@code imap} ({@code * OK}), {@code pop3} ({@code +OK}),
 *     {@code smtp} ({@code 220}) or {@code tcp} (connecting is enough); empty means the protocol of the listeners that
 *     use the pool
 * @param interval time between the end of one check and the start of the next
 * @param timeout for one whole check (connecting, greeting and, in {@code login} mode, the login and its command)
 * @param rise successes in a row that bring a backend back
 * @param fall failures in a row (checks, refused connections) that take it out
 * @param mode how much of the backend a check proves
 * @param login the probe user of {@link Mode#LOGIN}; present exactly in that mode
 */
public record HealthCheckConfig(
        boolean enabled,
        Optional<Protocol> protocol,
        Duration interval,
        Duration timeout,
        int rise,
        int fall,
        Mode mode,
        Optional<ProbeLogin> login) {

    public static final HealthCheckConfig DEFAULTS =
            new HealthCheckConfig(true, Optional.empty(), Duration.ofSeconds(5), Duration.ofSeconds(2), 2, 3);

    /**
     * The timeout of a {@code login} check when none is given: a login takes longer than a greeting (and a refused one
     * waits out the server's failure delay, Dovecot's {@code auth_failure_delay} is 2 s).
     */
    public static final Duration LOGIN_TIMEOUT = Duration.ofSeconds(5);

    /** The protocols a {@code login} check can speak. */
    public static final Set<Protocol> LOGIN_PROTOCOLS = Set.of(Protocol.IMAP, Protocol.POP3, Protocol.SMTP);

    /** How much of a backend a check proves. */
    public enum Mode {
        /** A TCP connection is accepted. */
        CONNECT,
        /** The backend greets as its protocol says ({@code * OK}, {@code +OK}, {@code 220}); the default. */
        GREETING,
        /** A probe user logs in (as real sessions do: TLS, PROXY v2, master user), runs a cheap command, logs out. */
        LOGIN;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The probe user of a {@code login} check.
     *
     * @param user the user name (with a backend's master user: the user the master logs in as)
     * @param password its password; never logged
     */
    public record ProbeLogin(String user, Secret password) {
        public ProbeLogin {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(password, "password");
        }

        @Override
        public String toString() {
            return "ProbeLogin[user=" + user + ", password=***]";
        }
    }

    public HealthCheckConfig {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(login, "login");
        if ((mode == Mode.LOGIN) != login.isPresent()) {
            throw new IllegalArgumentException("a probe login goes with mode login, and only with it");
        }
    }

    /** Settings in {@link Mode#GREETING} mode. */
    public HealthCheckConfig(
            boolean enabled, Optional<Protocol> protocol, Duration interval, Duration timeout, int rise, int fall) {
        this(enabled, protocol, interval, timeout, rise, fall, Mode.GREETING, Optional.empty());
    }

    /** The same settings with another mode and probe login. */
    public HealthCheckConfig withMode(Mode newMode, Optional<ProbeLogin> newLogin) {
        return new HealthCheckConfig(enabled, protocol, interval, timeout, rise, fall, newMode, newLogin);
    }

    /**
     * The protocol a pool's checks speak when its settings name none: that of the first listener that names the pool;
     * else the one protocol its backends have ports for; else {@code tcp}.
     */
    public static Protocol derivedProtocol(Pool pool, List<ListenerConfig> listeners) {
        for (ListenerConfig l : listeners) {
            if (l.pool().filter(pool.name()::equals).isPresent()) {
                return l.protocol();
            }
        }
        Set<Protocol> protocols = new HashSet<>();
        pool.backends().forEach(b -> protocols.addAll(b.ports().keySet()));
        boolean generalPort = pool.backends().stream().anyMatch(b -> b.port() > 0);
        return protocols.size() == 1 && !generalPort ? protocols.iterator().next() : Protocol.TCP;
    }
}
