package dev.postern.config;

import java.util.Objects;

/**
 * A host (name, IPv4 or IPv6 literal without brackets) and a TCP port.
 *
 * @param host a host name or address; {@code "*"} binds every address
 * @param port 1-65535
 */
public record HostPort(String host, int port) {
    public HostPort {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a port (1-65535)");
        }
    }

    /**
     * Parses {@code host:port}, {@code [v6]:port} or {@code *:port}.
     *
     * @throws IllegalArgumentException naming the bad text
     */
    public static HostPort parse(String text) {
        Objects.requireNonNull(text, "text");
        String s = text.trim();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("'" + text + "' is not host:port ([v6]:port for IPv6)");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || s.indexOf(':') != colon) {
                throw new IllegalArgumentException("'" + text + "' is not host:port ([v6]:port for IPv6)");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + port + "' is not a port (1-65535)");
        }
        if (p < 1 || p > 65535) {
            throw new IllegalArgumentException(p + " is not a port (1-65535)");
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' has no host");
        }
        return new HostPort(host, p);
    }

    /** True when this binds every local address. */
    public boolean isWildcard() {
        return host.equals("*") || host.equals("0.0.0.0") || host.equals("::");
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
