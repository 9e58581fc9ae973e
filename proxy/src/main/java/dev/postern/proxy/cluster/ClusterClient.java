package dev.postern.proxy.cluster;

import dev.postern.config.ClusterConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.transport.Transport;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's connection to the cluster's Redis: the one place that talks to it, for everything nodes share. It
 * connects by itself at start and after every loss, trying the addresses in order (or asking the Sentinels for the
 * primary), with a growing pause between rounds; while it has no connection, every command fails at once, so
 * nothing ever waits on Redis. A connection is a pair: one for commands, one for pub/sub.
 *
 * <p>Lettuce's callbacks run on Postern's I/O loops (see {@link SharedEventLoops}); everything that follows from them
 * (state changes, messages, the reconnect loop) runs on the client's own thread, {@code postern-cluster}, which may
 * block briefly (a command with its timeout, a file write).
 */
public final class ClusterClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterClient.class);
    private static final Duration FIRST_RETRY = Duration.ofMillis(100);
    private static final Duration MAX_RETRY = Duration.ofSeconds(5);

    private final ClusterConfig config;
    private final String nodeId;
    private final Metrics metrics;
    private final ClientResources resources;
    private final RedisClient redis;
    private final List<RedisURI> targets;
    private final String description;
    private final ScheduledThreadPoolExecutor executor;
    private final Map<String, Consumer<String>> channels = new ConcurrentHashMap<>();
    private final List<Consumer<Boolean>> stateListeners = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Boolean> firstRound = new CompletableFuture<>();

    /** The connection pair in use; null while down. Written on the client's thread only. */
    private volatile RedisLink link;

    private volatile boolean closed;
    // the reconnect loop's state, on the client's thread only
    private int failedRounds;
    private boolean connectedBefore;
    private boolean outageLogged;

    private ClusterClient(ClusterConfig config, String nodeId, Transport transport, Metrics metrics) {
        this.config = config;
        this.nodeId = nodeId;
        this.metrics = metrics;
        this.targets = RedisTargets.of(config, nodeId);
        this.description = RedisTargets.describe(config);
        this.executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "postern-cluster");
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.resources = DefaultClientResources.builder()
                .eventLoopGroupProvider(new SharedEventLoops(transport.workerGroup(), transport.kind()))
                // Lettuce's own event bus and reactive scheduling; this client uses neither much
                .computationThreadPoolSize(DefaultClientResources.MIN_COMPUTATION_THREADS)
                .build();
        this.redis = RedisClient.create(resources);
        redis.setOptions(RedisTargets.options(config));
        redis.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
                runOnClientThread(() -> {
                    RedisLink l = link;
                    if (l != null && l.owns(connection)) {
                        down("the connection closed");
                    }
                });
            }
        });
    }

    /**
     * Starts connecting; returns at once (the first connect happens on the client's thread).
     *
     * @param nodeId this node's name in Redis
     * @param transport whose I/O loops the connections run on
     */
    public static ClusterClient start(ClusterConfig config, String nodeId, Transport transport, Metrics metrics) {
        ClusterClient client = new ClusterClient(config, nodeId, transport, metrics);
        metrics.clusterUp(client::isUp);
        client.executor.execute(client::connect);
        return client;
    }

    /** Whether this node has a connection to Redis now. */
    public boolean isUp() {
        return link != null;
    }

    public String nodeId() {
        return nodeId;
    }

    /** What the logs call the cluster's Redis (addresses or Sentinels; no password). */
    public String description() {
        return description;
    }

    ClusterConfig config() {
        return config;
    }

    /** {@code name} under this cluster's key prefix: every key and channel goes through here. */
    String key(String name) {
        return config.keyPrefix() + name;
    }

    /** The client's own thread, for work that follows from Redis and may block briefly. */
    ScheduledExecutorService executor() {
        return executor;
    }

    /** Completes once the first round of connection attempts is over: true when it connected. */
    CompletableFuture<Boolean> firstRound() {
        return firstRound;
    }

    /** Calls {@code listener} on the client's thread with true when a connection is made, false when it is lost. */
    void onStateChange(Consumer<Boolean> listener) {
        stateListeners.add(listener);
    }

    /**
     * Delivers the messages of {@code channel} to {@code handler} on the client's thread, on this connection and every
     * later one.
     */
    void subscribe(String channel, Consumer<String> handler) {
        runOnClientThread(() -> {
            channels.put(channel, handler);
            RedisLink l = link;
            if (l != null) {
                l.pubsub().async().subscribe(channel);
            }
        });
    }

    /**
     * Runs one command, timed and counted as {@code name}. Fails at once with {@link NotConnectedException} while
     * there is no connection; a command that gets no answer within the command timeout fails with Lettuce's timeout.
     * The future completes on an I/O loop: its callbacks must not block.
     */
    <T> CompletableFuture<T> command(String name, Function<RedisAsyncCommands<String, String>, RedisFuture<T>> call) {
        RedisLink l = link;
        if (l == null || !l.commands().isOpen()) {
            if (l != null) {
                suspect("the connection closed");
            }
            metrics.clusterCommand(name, "unavailable", 0);
            return CompletableFuture.failedFuture(new RedisErrors.NotConnectedException());
        }
        long start = System.nanoTime();
        CompletableFuture<T> f;
        try {
            f = call.apply(l.commands().async()).toCompletableFuture();
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        return f.whenComplete(
                (v, e) -> metrics.clusterCommand(name, RedisErrors.outcome(e), System.nanoTime() - start));
    }

    /**
     * Something that uses the connection found Redis not answering (a command timed out while the connection stays
     * open, as on a half-open TCP connection): drop it and connect again.
     */
    void suspect(String why) {
        runOnClientThread(() -> {
            if (link != null) {
                down(why);
            }
        });
    }

    private void connect() {
        if (closed || link != null) {
            return;
        }
        attempt(0);
    }

    private void attempt(int index) {
        RedisURI target = targets.get(index);
        redis.connectAsync(StringCodec.UTF8, target)
                .whenCompleteAsync(
                        (commands, failure) -> {
                            if (failure != null) {
                                failed(index, failure);
                                return;
                            }
                            redis.connectPubSubAsync(StringCodec.UTF8, target)
                                    .whenCompleteAsync(
                                            (pubsub, pubsubFailure) -> {
                                                if (pubsubFailure != null) {
                                                    commands.closeAsync();
                                                    failed(index, pubsubFailure);
                                                    return;
                                                }
                                                established(new RedisLink(target, commands, pubsub));
                                            },
                                            executor);
                        },
                        executor);
    }

    private void failed(int index, Throwable failure) {
        String why = RedisErrors.reason(failure);
        if (!outageLogged) {
            log.warn("cluster: cannot connect to redis {}: {}", RedisTargets.describe(targets.get(index)), why);
        } else {
            log.debug("cluster: cannot connect to redis {}: {}", RedisTargets.describe(targets.get(index)), why);
        }
        if (closed) {
            return;
        }
        if (index + 1 < targets.size()) {
            attempt(index + 1);
            return;
        }
        if (!outageLogged) {
            log.warn(
                    "cluster: no connection to redis {}; routing goes on with the table this node has, and it keeps"
                            + " trying",
                    description);
            outageLogged = true;
        }
        firstRound.complete(false);
        retryLater();
    }

    private void retryLater() {
        long max = Math.min(
                MAX_RETRY.toMillis(),
                Math.max(FIRST_RETRY.toMillis(), config.checkInterval().toMillis()));
        long delay = Math.min(max, FIRST_RETRY.toMillis() << Math.min(failedRounds, 10));
        failedRounds++;
        executor.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    private void established(RedisLink l) {
        if (closed) {
            l.close();
            return;
        }
        l.pubsub().addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                Consumer<String> handler = channels.get(channel);
                if (handler != null) {
                    runOnClientThread(() -> handler.accept(message));
                }
            }
        });
        String[] subscribed = channels.keySet().toArray(String[]::new);
        CompletableFuture<Void> subscribing = subscribed.length == 0
                ? CompletableFuture.completedFuture(null)
                : l.pubsub().async().subscribe(subscribed).toCompletableFuture();
        subscribing.whenCompleteAsync(
                (ok, failure) -> {
                    if (failure == null && !l.isOpen()) {
                        // lost before it was in use: its disconnect event found no link to take down
                        failure = new RedisConnectionException("the connection closed while subscribing");
                    }
                    if (failure != null) {
                        l.close();
                        failed(targets.indexOf(l.target()), failure);
                        return;
                    }
                    link = l;
                    List<String> late = new ArrayList<>(channels.keySet());
                    late.removeAll(List.of(subscribed));
                    if (!late.isEmpty()) {
                        // subscribed to while this connection was being made
                        l.pubsub().async().subscribe(late.toArray(String[]::new));
                    }
                    failedRounds = 0;
                    outageLogged = false;
                    if (connectedBefore) {
                        metrics.clusterReconnect();
                    }
                    connectedBefore = true;
                    log.info("cluster: connected to redis {} as node {}", RedisTargets.describe(l.target()), nodeId);
                    firstRound.complete(true);
                    fire(true);
                },
                executor);
    }

    private void down(String why) {
        RedisLink l = link;
        link = null;
        l.close();
        log.warn(
                "cluster: lost redis {} ({}); routing goes on with the table this node has, reconnecting",
                RedisTargets.describe(l.target()),
                why);
        outageLogged = true;
        fire(false);
        retryLater();
    }

    private void fire(boolean up) {
        for (Consumer<Boolean> listener : stateListeners) {
            try {
                listener.accept(up);
            } catch (RuntimeException e) {
                log.error("cluster: a state listener failed", e);
            }
        }
    }

    private void runOnClientThread(Runnable task) {
        if (closed) {
            return;
        }
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    // an executor would drop it without a word
                    log.error("cluster: a task failed", e);
                }
            });
        } catch (RejectedExecutionException e) {
            // closed meanwhile: nothing follows from Redis any more
        }
    }

    /** Closes the connections and the client; Postern's event loops stay (the transport stops them after this). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // the connections themselves are closed by the client's shutdown below
        executor.execute(() -> link = null);
        executor.shutdown();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        redis.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        firstRound.complete(false);
        log.info("cluster: disconnected from redis {}", description);
    }
}
