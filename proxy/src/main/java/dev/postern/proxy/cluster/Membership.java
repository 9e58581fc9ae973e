package dev.postern.proxy.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lettuce.core.KeyValue;
import io.lettuce.core.ScriptOutputType;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which nodes are in the cluster now. Each node writes a heartbeat key, {@code <prefix>nodes:<node-id>} (a small JSON
 * document: its process, when it started, when it wrote this, its live sessions), every {@code check-interval}, with
 * an expiry of about three intervals, and adds its id to the set {@code <prefix>nodes}; a node is alive while its key
 * is there. Redis's own clock decides that (the expiry), so the nodes' clocks need not agree; the set saves a scan of
 * the key space, and ids whose key has expired are taken out of it by whoever reads it.
 *
 * <p>The heartbeat also notices a second process writing under the same node id (two nodes configured alike), which
 * would make session ids and cluster commands ambiguous, and logs it.
 */
public final class Membership implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Membership.class);
    static final String INDEX = "nodes";
    static final String NODE = "nodes:";
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration MIN_TTL = Duration.ofSeconds(2);
    private static final Duration CONFLICT_LOG_EVERY = Duration.ofMinutes(1);

    /** KEYS[1] the node's key, KEYS[2] the set; ARGV: the document, its expiry (ms), the node id. Answers the old one. */
    static final String HEARTBEAT =
            """
            local old = redis.call('GET', KEYS[1])
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            redis.call('SADD', KEYS[2], ARGV[3])
            return old
            """;

    /**
     * A node as its heartbeat describes it.
     *
     * @param node its id
     * @param instance its process (random, new at every start)
     * @param started when that process started
     * @param heartbeat when it wrote this (its own clock)
     * @param sessions its live sessions then
     */
    public record Member(String node, String instance, Instant started, Instant heartbeat, int sessions) {
        public Member {
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(instance, "instance");
            Objects.requireNonNull(started, "started");
            Objects.requireNonNull(heartbeat, "heartbeat");
        }
    }

    private final ClusterClient client;
    private final IntSupplier sessions;
    private final String instance;
    private final Instant started = Instant.now();
    private final Duration ttl;
    private final Duration wait;
    private final String key;
    private final String index;
    private volatile ScheduledFuture<?> beating;
    private volatile boolean wroteOnce;
    private volatile long conflictLoggedAt;

    private Membership(ClusterClient client, IntSupplier sessions) {
        this.client = client;
        this.sessions = sessions;
        byte[] random = new byte[8];
        new SecureRandom().nextBytes(random);
        this.instance = HexFormat.of().formatHex(random);
        Duration interval = client.config().checkInterval();
        Duration t = interval.multipliedBy(3).plus(client.config().commandTimeout());
        this.ttl = t.compareTo(MIN_TTL) < 0 ? MIN_TTL : t;
        this.wait = client.config().commandTimeout().plusSeconds(1);
        this.key = client.key(NODE + client.nodeId());
        this.index = client.key(INDEX);
    }

    /**
     * Starts this node's heartbeat: at every connection to Redis and every {@code check-interval} from then on.
     *
     * @param sessions this node's live sessions, for the heartbeat document
     */
    public static Membership start(ClusterClient client, IntSupplier sessions) {
        Membership m = new Membership(client, sessions);
        client.onStateChange(up -> {
            if (up) {
                m.beat();
            }
        });
        long every = client.config().checkInterval().toMillis();
        m.beating = client.executor()
                .scheduleWithFixedDelay(
                        () -> {
                            try {
                                m.beat();
                            } catch (RuntimeException e) {
                                // a periodic task that throws is never run again
                                log.error("cluster: the heartbeat failed", e);
                            }
                        },
                        0,
                        every,
                        TimeUnit.MILLISECONDS);
        return m;
    }

    /** This process's id: a node's messages carry it, so that it knows its own. */
    public String instance() {
        return instance;
    }

    /** How long a heartbeat keeps a node alive. */
    Duration ttl() {
        return ttl;
    }

    /** Writes the heartbeat (without waiting for the answer); nothing while Redis is down. */
    void beat() {
        if (!client.isUp()) {
            return;
        }
        ObjectNode doc = JSON.createObjectNode();
        doc.put("node", client.nodeId());
        doc.put("instance", instance);
        doc.put("started", started.toString());
        doc.put("heartbeat", Instant.now().toString());
        doc.put("sessions", sessions.getAsInt());
        String[] keys = {key, index};
        String[] args = {doc.toString(), Long.toString(ttl.toMillis()), client.nodeId()};
        client.<String>command("nodes-heartbeat", c -> c.eval(HEARTBEAT, ScriptOutputType.VALUE, keys, args))
                .whenComplete((old, failure) -> {
                    if (failure != null) {
                        log.debug("cluster: heartbeat not written: {}", RedisErrors.reason(failure));
                        return;
                    }
                    boolean first = !wroteOnce;
                    wroteOnce = true;
                    // at the first beat, the key may still be the previous process's (a restart within the expiry)
                    if (!first && old != null) {
                        checkOwner(old);
                    }
                });
    }

    private void checkOwner(String old) {
        Member other = parse(old);
        if (other == null || other.instance().equals(instance)) {
            return;
        }
        long now = System.nanoTime();
        long last = conflictLoggedAt;
        if (last != 0 && now - last < CONFLICT_LOG_EVERY.toNanos()) {
            return;
        }
        conflictLoggedAt = now;
        log.error(
                "cluster: another Postern (started {}) writes the heartbeat of node id '{}' too: give every node its"
                        + " own cluster.node-id, or session ids and cluster-wide commands are ambiguous",
                other.started(),
                client.nodeId());
    }

    /**
     * The nodes alive now, this one included, sorted by id. Blocks for up to the command timeout.
     *
     * @throws IOException Redis could not be reached, or did not answer
     */
    public List<Member> alive() throws IOException {
        Set<String> ids = await(client.command("nodes-list", c -> c.smembers(index)));
        if (ids.isEmpty()) {
            return List.of();
        }
        List<String> names = new ArrayList<>(ids);
        String[] keys = names.stream().map(id -> client.key(NODE + id)).toArray(String[]::new);
        List<KeyValue<String, String>> docs = await(client.command("nodes-read", c -> c.mget(keys)));
        List<Member> members = new ArrayList<>();
        List<String> gone = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            KeyValue<String, String> kv = docs.get(i);
            Member m = kv.hasValue() ? parse(kv.getValue()) : null;
            if (m == null) {
                gone.add(names.get(i));
            } else {
                members.add(m);
            }
        }
        if (!gone.isEmpty()) {
            // their heartbeat expired: out of the set (a node coming back adds itself again)
            client.command("nodes-prune", c -> c.srem(index, gone.toArray(String[]::new)));
        }
        members.sort(Comparator.comparing(Member::node));
        return members;
    }

    static Member parse(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            return new Member(
                    n.path("node").asText(),
                    n.path("instance").asText(),
                    Instant.parse(n.path("started").asText()),
                    Instant.parse(n.path("heartbeat").asText()),
                    n.path("sessions").asInt());
        } catch (IOException | RuntimeException e) {
            log.debug("cluster: a heartbeat that does not parse: {}", e.toString());
            return null;
        }
    }

    private <T> T await(CompletableFuture<T> f) throws IOException {
        try {
            return f.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IOException(
                    "redis " + client.description() + ": " + RedisErrors.reason(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("redis " + client.description() + " did not answer within " + wait, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for redis", e);
        }
    }

    /** Stops the heartbeat and takes this node out (when Redis answers within the command timeout). */
    @Override
    public void close() {
        ScheduledFuture<?> b = beating;
        if (b != null) {
            b.cancel(false);
        }
        if (!client.isUp()) {
            return;
        }
        try {
            // sent from the client's thread, so after any heartbeat that thread sent: one connection keeps the order
            client.executor()
                    .submit(() -> CompletableFuture.allOf(
                            client.command("nodes-leave", c -> c.del(key)),
                            client.command("nodes-leave", c -> c.srem(index, client.nodeId()))))
                    .get(wait.toMillis(), TimeUnit.MILLISECONDS)
                    .get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
            log.debug("cluster: could not take this node out of {}: {}", index, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
