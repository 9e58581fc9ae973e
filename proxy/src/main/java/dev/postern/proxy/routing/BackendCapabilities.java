package dev.postern.proxy.routing;

import dev.postern.config.Protocol;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What each pool's backends really support, per protocol, as learned from them (a probe at start, every login
 * dialogue, later the health checks): SMTP EHLO keywords, POP3 CAPA lines, IMAP capabilities. Front ends advertise
 * only what is here, so Postern never offers what its backends lack.
 */
public final class BackendCapabilities {
    private record Key(String pool, Protocol protocol) {}

    private final ConcurrentHashMap<Key, List<String>> known = new ConcurrentHashMap<>();

    /** The capabilities last learned from a backend of {@code pool}, if any. */
    public Optional<List<String>> get(String pool, Protocol protocol) {
        return Optional.ofNullable(known.get(new Key(pool, protocol)));
    }

    /** Records what a backend of {@code pool} announced (as the protocol lists them, one entry per keyword line). */
    public void learned(String pool, Protocol protocol, List<String> capabilities) {
        known.put(new Key(pool, protocol), List.copyOf(capabilities));
    }
}
