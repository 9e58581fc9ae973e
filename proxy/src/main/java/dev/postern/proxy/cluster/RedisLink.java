package dev.postern.proxy.cluster;

import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;

/**
 * A connection pair to one Redis: one connection for commands, one for pub/sub (a subscribed connection takes no
 * other commands).
 */
record RedisLink(
        RedisURI target,
        StatefulRedisConnection<String, String> commands,
        StatefulRedisPubSubConnection<String, String> pubsub) {
    boolean owns(RedisChannelHandler<?, ?> connection) {
        return connection == commands || connection == pubsub;
    }

    boolean isOpen() {
        return commands.isOpen() && pubsub.isOpen();
    }

    void close() {
        commands.closeAsync();
        pubsub.closeAsync();
    }
}
