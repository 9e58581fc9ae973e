package dev.postern.config;

import java.util.List;
import java.util.Optional;

/**
 * The I/O transport a Postern process asks for ({@code transport:}). It is chosen once, at start: the proxy falls back
 * from one that is not available on this host (io_uring switched off by the kernel or a seccomp filter, say) instead of
 * failing to start.
 */
public enum TransportKind {
    /** epoll when the native library loads, else NIO. */
    AUTO("auto"),
    /** io_uring, else what {@link #AUTO} picks. */
    IO_URING("io_uring"),
    /** epoll, else NIO. */
    EPOLL("epoll"),
    /** The JDK's NIO selector. */
    NIO("nio");

    private static final List<String> NAMES =
            List.of(values()).stream().map(TransportKind::configName).toList();

    private final String configName;

    TransportKind(String configName) {
        this.configName = configName;
    }

    /** How it is written in the configuration (Netty's and the kernel's spelling: {@code io_uring}). */
    public String configName() {
        return configName;
    }

    /** The kind written {@code name}, if any. */
    public static Optional<TransportKind> named(String name) {
        for (TransportKind kind : values()) {
            if (kind.configName.equals(name)) {
                return Optional.of(kind);
            }
        }
        return Optional.empty();
    }

    /** The top-level {@code transport} key: {@link #AUTO} when absent; null when invalid (reported). */
    static TransportKind read(Node node) {
        if (!node.isPresent()) {
            return AUTO;
        }
        String text = node.string("one of " + String.join(", ", NAMES));
        if (text == null) {
            return null;
        }
        Optional<TransportKind> kind = named(text);
        if (kind.isEmpty()) {
            String hint = Suggestions.closest(text, NAMES)
                    .map(s -> " (did you mean '" + s + "'?)")
                    .orElse("");
            node.problem("'" + text + "' is not one of " + String.join(", ", NAMES) + hint);
            return null;
        }
        return kind.get();
    }
}
