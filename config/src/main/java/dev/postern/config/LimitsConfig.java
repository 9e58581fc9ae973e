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
 * @param preAuthConnectionsPerClient connections one client address may have open on a listener before they log in
 *     (all of a port-25 edge's, which never log in); 0 = unlimited. Like Postfix's
 *     {@code smtpd_client_connection_count_limit}: a slowloris from one address cannot take every slot
 */
public record LimitsConfig(
        int maxConnections,
        int writeBufferLow,
        int writeBufferHigh,
        int lineLength,
        int saslLineLength,
        int literalSize,
        int badCommands,
        int authFailures,
        int preAuthConnectionsPerClient) {

    public static final int DEFAULT_PRE_AUTH_CONNECTIONS_PER_CLIENT = 50;

    public static final LimitsConfig DEFAULTS = new LimitsConfig(
            0, 32 * 1024, 64 * 1024, 8 * 1024, 64 * 1024, 64 * 1024, 10, 3, DEFAULT_PRE_AUTH_CONNECTIONS_PER_CLIENT);
}
