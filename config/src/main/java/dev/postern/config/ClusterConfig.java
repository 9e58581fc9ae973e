package dev.postern.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Cluster mode: the Redis that several Postern nodes share, and how this node takes part. Present exactly when {@code
 * routing.store} is {@code redis}; the nodes then keep one routing table there.
 *
 * @param addresses the Redis servers to connect to, tried in order at every (re)connect; empty with a sentinel
 * @param sentinel the Sentinels that name the current primary, instead of fixed addresses
 * @param username the ACL user ({@code AUTH username password}); empty logs in as {@code default}
 * @param password the password of that user (or the {@code requirepass} one)
 * @param database the Redis database index
 * @param tls TLS to Redis (and to the Sentinels)
 * @param connectTimeout how long one connection attempt may take
 * @param commandTimeout how long one command may take before it counts as failed
 * @param keyPrefix put in front of every key and channel, so that several clusters can share one Redis
 * @param nodeId this node's name in Redis (client name, who wrote a revision); empty: host name and a port
 * @param checkInterval how often the node reads the shared revision, catching a lost change notification and
 *     noticing a Redis that stopped answering
 */
public record ClusterConfig(
        List<HostPort> addresses,
        Optional<Sentinel> sentinel,
        Optional<String> username,
        Optional<Secret> password,
        int database,
        Tls tls,
        Duration connectTimeout,
        Duration commandTimeout,
        String keyPrefix,
        Optional<String> nodeId,
        Duration checkInterval) {

    public static final int DEFAULT_PORT = 6379;
    public static final int DEFAULT_SENTINEL_PORT = 26379;
    public static final String DEFAULT_KEY_PREFIX = "postern:";
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(1);
    public static final Duration DEFAULT_CHECK_INTERVAL = Duration.ofSeconds(5);

    public ClusterConfig {
        addresses = List.copyOf(addresses);
        Objects.requireNonNull(sentinel, "sentinel");
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(commandTimeout, "commandTimeout");
        Objects.requireNonNull(keyPrefix, "keyPrefix");
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(checkInterval, "checkInterval");
        if (addresses.isEmpty() == sentinel.isEmpty()) {
            throw new IllegalArgumentException("give either addresses or a sentinel");
        }
    }

    /** A cluster on fixed addresses with every other setting at its default (tests, tools). */
    public static ClusterConfig of(List<HostPort> addresses) {
        return new ClusterConfig(
                addresses,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                0,
                Tls.OFF,
                DEFAULT_CONNECT_TIMEOUT,
                DEFAULT_COMMAND_TIMEOUT,
                DEFAULT_KEY_PREFIX,
                Optional.empty(),
                DEFAULT_CHECK_INTERVAL);
    }

    /** The same cluster under another key prefix. */
    public ClusterConfig withKeyPrefix(String prefix) {
        return new ClusterConfig(
                addresses,
                sentinel,
                username,
                password,
                database,
                tls,
                connectTimeout,
                commandTimeout,
                prefix,
                nodeId,
                checkInterval);
    }

    /** The same cluster with another node id. */
    public ClusterConfig withNodeId(String id) {
        return new ClusterConfig(
                addresses,
                sentinel,
                username,
                password,
                database,
                tls,
                connectTimeout,
                commandTimeout,
                keyPrefix,
                Optional.of(id),
                checkInterval);
    }

    /** The same cluster with other timings (tests run them short). */
    public ClusterConfig withTimings(Duration connect, Duration command, Duration check) {
        return new ClusterConfig(
                addresses, sentinel, username, password, database, tls, connect, command, keyPrefix, nodeId, check);
    }

    /**
     * Redis Sentinel: the primary is whatever the Sentinels say {@code master} is now; a failover moves the node
     * to the new primary at its next connect.
     *
     * @param addresses the Sentinels, asked in order
     * @param master the name the Sentinels monitor the primary under
     * @param password the Sentinels' own password ({@code requirepass} of the Sentinels), if they have one
     */
    public record Sentinel(List<HostPort> addresses, String master, Optional<Secret> password) {
        public Sentinel {
            addresses = List.copyOf(addresses);
            Objects.requireNonNull(master, "master");
            Objects.requireNonNull(password, "password");
        }
    }

    /**
     * TLS to Redis.
     *
     * @param enabled whether connections use TLS
     * @param verify whether the server's certificate and name are checked
     * @param ca the CA certificates (PEM) to check it against; empty uses the JDK's trust store
     */
    public record Tls(boolean enabled, boolean verify, Optional<Path> ca) {
        public static final Tls OFF = new Tls(false, true, Optional.empty());

        public Tls {
            Objects.requireNonNull(ca, "ca");
        }
    }
}
