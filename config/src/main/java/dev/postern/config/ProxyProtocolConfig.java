package dev.postern.config;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@code proxy-protocol} block of a listener: whether clients arrive through an L4 balancer that prefixes each
 * connection with a PROXY protocol header (v1 text or v2 binary, haproxy's proxy-protocol.txt), and which balancers
 * may. The address in an accepted header is the client's address for everything after it: logs, throttling, DNS
 * lists, what the backends are told.
 *
 * @param mode off, optional or required
 * @param trusted the networks of the balancers allowed to send a header; a header from anywhere else is refused.
 *     Never empty unless the mode is off
 * @param timeout how long a connection from a trusted network may take to send its header
 */
public record ProxyProtocolConfig(Mode mode, List<Cidr> trusted, Duration timeout) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    /** No header is read: every connection is its own client. */
    public static final ProxyProtocolConfig OFF = new ProxyProtocolConfig(Mode.OFF, List.of(), DEFAULT_TIMEOUT);

    public ProxyProtocolConfig {
        Objects.requireNonNull(mode, "mode");
        trusted = List.copyOf(trusted);
        Objects.requireNonNull(timeout, "timeout");
        if (mode != Mode.OFF && trusted.isEmpty()) {
            throw new IllegalArgumentException("trusted: at least one network when mode is " + mode.configName());
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout " + timeout + " must be > 0");
        }
    }

    /** Whether a connection from {@code address} may carry a header. */
    public boolean trusts(InetAddress address) {
        if (address == null) {
            return false;
        }
        for (Cidr network : trusted) {
            if (network.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** What a listener expects at the start of each connection. */
    public enum Mode {
        /** Nothing: the connection's own peer is the client. */
        OFF,
        /** A trusted source may start with a header or not (told apart by the header's signature). */
        OPTIONAL,
        /** Every connection must come from a trusted source and start with a header. */
        REQUIRED;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
