package dev.postern.proxy.cluster;

import dev.postern.config.RoutingJson;
import dev.postern.config.RoutingTable;
import io.lettuce.core.KeyValue;
import io.lettuce.core.ScriptOutputType;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The routing table in Redis: one hash, {@code <prefix>routes}, whose fields {@code revision}, {@code table} (the
 * table as {@link RoutingJson} writes it, secrets included, as in the route file), {@code node} (who wrote it) and
 * {@code updated} change together, and a channel, {@code <prefix>routes-changed}, that carries every new revision.
 *
 * <p>A write is a compare-and-set on the revision, in one Lua script: it replaces the hash and publishes the revision
 * only when the hash is still at the revision the writer based its change on (0: no table yet), so of two writers
 * on the same revision exactly one wins, whichever node each writes through.
 */
final class RouteDocument {
    static final String KEY = "routes";
    static final String CHANNEL = "routes-changed";

    /**
     * KEYS[1] the hash; ARGV: the expected revision, the new revision, the table, the node, the time, the channel.
     * Answers {1, new revision} when written, {0, the revision there} when not.
     */
    static final String COMPARE_AND_SET =
            """
            local current = redis.call('HGET', KEYS[1], 'revision') or '0'
            if current ~= ARGV[1] then
              return {0, tonumber(current) or -1}
            end
            redis.call('HSET', KEYS[1], 'revision', ARGV[2], 'table', ARGV[3], 'node', ARGV[4], 'updated', ARGV[5])
            redis.call('PUBLISH', ARGV[6], ARGV[2])
            return {1, tonumber(ARGV[2])}
            """;

    private final ClusterClient client;
    private final String key;
    private final String channel;

    /**
     * The hash as read.
     *
     * @param revision its revision; 0 when there is no table yet
     * @param json the table; null when there is none
     * @param node the node that wrote it; "-" when unknown
     */
    record Stored(long revision, String json, String node) {
        static final Stored EMPTY = new Stored(0, null, "-");

        boolean isEmpty() {
            return json == null;
        }
    }

    /**
     * A compare-and-set's answer.
     *
     * @param written whether the table was written
     * @param revision the revision now there
     */
    record Written(boolean written, long revision) {}

    RouteDocument(ClusterClient client) {
        this.client = client;
        this.key = client.key(KEY);
        this.channel = client.key(CHANNEL);
    }

    String channel() {
        return channel;
    }

    /** The whole hash. */
    CompletableFuture<Stored> read() {
        return client.command("routes-read", c -> c.hmget(key, "revision", "table", "node"))
                .thenApply(RouteDocument::stored);
    }

    /** Only the revision (0 when there is no table): the cheap periodic check. */
    CompletableFuture<Long> revision() {
        return client.command("routes-revision", c -> c.hget(key, "revision")).thenApply(RouteDocument::parse);
    }

    /** Writes {@code table} (under its own revision) if the hash is still at {@code expected}. */
    CompletableFuture<Written> compareAndSet(long expected, RoutingTable table) {
        String[] keys = {key};
        String[] args = {
            Long.toString(expected),
            Long.toString(table.revision()),
            RoutingJson.write(table),
            client.nodeId(),
            Instant.now().toString(),
            channel
        };
        return client.<List<Object>>command(
                        "routes-write", c -> c.eval(COMPARE_AND_SET, ScriptOutputType.MULTI, keys, args))
                .thenApply(r -> new Written(((Long) r.get(0)) == 1, (Long) r.get(1)));
    }

    private static Stored stored(List<KeyValue<String, String>> fields) {
        String revision = fields.get(0).getValueOrElse(null);
        String json = fields.get(1).getValueOrElse(null);
        if (revision == null || json == null) {
            return Stored.EMPTY;
        }
        return new Stored(parse(revision), json, fields.get(2).getValueOrElse("-"));
    }

    private static long parse(String revision) {
        if (revision == null) {
            return 0;
        }
        try {
            return Long.parseLong(revision);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
