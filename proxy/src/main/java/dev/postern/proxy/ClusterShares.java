package dev.postern.proxy;

import dev.postern.config.PosternConfig;
import dev.postern.config.ThrottleConfig;
import dev.postern.proxy.auth.SharedFailures;
import dev.postern.proxy.cluster.ClusterClient;
import dev.postern.proxy.cluster.RedisThrottleStore;

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
}
