package dev.postern.config;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The admin API listener.
 *
 * @param bind where it listens; empty disables the API
 * @param tls whether the API is served over TLS with the certificates of the {@code tls} section
 * @param tokens the bearer tokens that may call the API; none means every API call is refused (secure by default)
 * @param metricsAuth whether {@code /metrics} needs a token too (by default Prometheus scrapes it without one)
 */
public record AdminConfig(Optional<HostPort> bind, boolean tls, List<Token> tokens, boolean metricsAuth) {
    public static final AdminConfig DISABLED = new AdminConfig(Optional.empty(), false, List.of(), false);

    public AdminConfig {
        Objects.requireNonNull(bind, "bind");
        tokens = List.copyOf(tokens);
    }

    /**
     * One bearer token.
     *
     * @param name who uses it: the audit log names writes by it, never by the token
     * @param token the token itself
     * @param access what it may do
     */
    public record Token(String name, Secret token, Access access) {
        public Token {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(access, "access");
        }
    }

    /** What a token may do. */
    public enum Access {
        /** Read every resource; change nothing. */
        READ_ONLY,
        /** Read and change everything. */
        READ_WRITE;

        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }
}
