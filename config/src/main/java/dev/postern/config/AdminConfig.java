package dev.postern.config;

import java.util.Optional;

/**
 * The admin API listener.
 *
 * @param bind where it listens; empty disables the API
 */
public record AdminConfig(Optional<HostPort> bind) {
    public static final AdminConfig DISABLED = new AdminConfig(Optional.empty());
}
