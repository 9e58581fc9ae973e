package dev.postern.proxy;

import dev.postern.config.ListenerConfig;
import dev.postern.config.PosternConfig;
import dev.postern.config.SmtpConfig;
import dev.postern.config.ThrottleConfig;
import dev.postern.proxy.auth.SharedFailures;
import dev.postern.proxy.cluster.ClusterClient;
import dev.postern.proxy.cluster.RedisPassedClients;
import dev.postern.proxy.cluster.RedisThrottleStore;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.smtp.edge.SharedPassedClients;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * What a cluster's nodes share through Redis besides the routing table: the throttle's failure counters and the
 * port-25 edge's passed clients. The {@code cluster} package has the Redis side of each; the packages that use them
 * know only their own small interface, wired here.
 */
final class ClusterShares {
    private ClusterShares() {}

    /** The throttle's shared counters: in cluster mode with a throttle that is shared ({@code shared}, the default). */
    static SharedFailures throttle(PosternConfig config, ClusterClient cluster) {
        boolean shared = config.auth().throttle().map(ThrottleConfig::shared).orElse(false);
        return cluster != null && shared ? RedisThrottleStore.start(cluster) : null;
    }

    /** The edge's shared memory of passed clients: in cluster mode with a relay listener that remembers any. */
    static SharedPassedClients passedClients(PosternConfig config, ClusterClient cluster, Metrics metrics) {
        boolean remembers = config.listeners().stream()
                .map(ListenerConfig::smtp)
                .anyMatch(s ->
                        s.role() == SmtpConfig.Role.RELAY && !s.passedCache().isZero());
        if (cluster == null || !remembers) {
            return SharedPassedClients.NONE;
        }
        RedisPassedClients redis = RedisPassedClients.start(cluster);
        metrics.clusterShared("passed-clients", redis::available, redis::unanswered);
        return new SharedPassedClients() {
            @Override
            public CompletionStage<Duration> remaining(String listener, InetAddress client) {
                return redis.remaining(listener, client);
            }

            @Override
            public void add(String listener, InetAddress client, Duration ttl) {
                redis.add(listener, client, ttl);
            }
        };
    }
}
