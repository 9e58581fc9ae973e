package dev.postern.config;

/**
 * Bounds on what a client may make Postern hold.
 *
 * @param maxConnections concurrent client connections on a listener (0 = unlimited)
 * @param writeBufferLow a channel becomes writable again below this many queued bytes
 * @param writeBufferHigh a channel becomes unwritable above this many queued bytes; the peer stops reading
 * @param lineLength longest command line before authentication, in bytes
 * @param saslLineLength longest SASL continuation line (OAuth tokens are long), in bytes
 * @param literalSize largest literal ({@code {n}}) accepted before authentication, in bytes
 * @param badCommands invalid commands per connection before it is closed
 * @param authFailures failed logins per connection before it is closed
 */
public record LimitsConfig(
        int maxConnections,
        int writeBufferLow,
        int writeBufferHigh,
        int lineLength,
        int saslLineLength,
        int literalSize,
        int badCommands,
        int authFailures) {

    public static final LimitsConfig DEFAULTS =
            new LimitsConfig(0, 32 * 1024, 64 * 1024, 8 * 1024, 64 * 1024, 64 * 1024, 10, 3);
}
