package dev.postern.proxy.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lettuce.core.SetArgs;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commands for every node of the cluster (an admin's kick, auth-cache flush, certificate reload, session list), over
 * Redis pub/sub. The asking node publishes a request on {@code <prefix>commands}, which every node subscribes to; each
 * other node runs the command's {@link Handler} and publishes its answer on the asker's own channel, {@code
 * <prefix>replies:<node-id>}; the asker collects the answers until every node it expects has answered, or the
 * deadline. It expects the nodes alive by their heartbeat ({@link Membership}) and as many as the request reached
 * (Redis counts the subscribers a message went to), so a node that has just joined is waited for too.
 *
 * <p>The messages are JSON. A request: {@code {"v": 1, "id": "<request id>", "origin": "<node id>", "instance":
 * "<process>", "command": "kill-user", "args": {...}}}, with {@code "to": "<node id>"} when only one node is to act.
 * An answer: {@code {"v": 1, "id": ..., "node": "<node id>", "result": {...}}}; a result over {@value #INLINE_LIMIT}
 * characters (a long session list) is stored under {@code <prefix>replies:<origin>:<id>:<node>} for {@link
 * #REPLY_TTL} instead, and the answer says {@code "stored": true}; a command that failed or that the node does not
 * know answers {@code "error": "..."}. A node knows its own requests by the instance and does not run them: the
 * asker runs its own part itself, before it asks.
 *
 * <p>Handlers run one at a time on a thread of their own ({@code postern-cluster-commands}), never on an event loop
 * or the client's thread; {@link #request} blocks its caller (an admin worker) for up to the deadline.
 */
public final class CommandChannel implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CommandChannel.class);
    static final String COMMANDS = "commands";
    static final String REPLIES = "replies:";
    static final int INLINE_LIMIT = 64 * 1024;
    static final Duration REPLY_TTL = Duration.ofSeconds(30);
    static final int VERSION = 1;
    private static final ObjectMapper JSON = Membership.JSON;

    /** Runs one command on this node, asked by node {@code origin}: its arguments in, its result out. */
    @FunctionalInterface
    public interface Handler {
        JsonNode apply(String origin, JsonNode args);
    }

    /**
     * What a request came to.
     *
     * @param sent whether it was published; when not, {@code why} says why and nothing else is set
     * @param why why it was not sent (Redis down); empty when sent
     * @param reached how many other nodes it reached (subscribers, as Redis counted them)
     * @param answers each answering node's result, by node id, sorted
     * @param missing the nodes expected to answer that did not (in time, or usefully), sorted
     * @param waited how long the asker waited for the answers
     */
    public record Outcome(
            boolean sent,
            Optional<String> why,
            int reached,
            Map<String, JsonNode> answers,
            List<String> missing,
            Duration waited) {
        public Outcome {
            Objects.requireNonNull(why, "why");
            answers = Collections.unmodifiableMap(new TreeMap<>(answers));
            missing = List.copyOf(missing);
            Objects.requireNonNull(waited, "waited");
        }

        static Outcome notSent(String why) {
            return new Outcome(false, Optional.of(why), 0, Map.of(), List.of(), Duration.ZERO);
        }
    }

    private final ClusterClient client;
    private final Membership membership;
    private final String commands;
    private final String replies;
    private final Duration wait;
    private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
    private final Map<String, PendingRequest> pending = new ConcurrentHashMap<>();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "postern-cluster-commands");
        t.setDaemon(true);
        return t;
    });

    private CommandChannel(ClusterClient client, Membership membership) {
        this.client = client;
        this.membership = membership;
        this.commands = client.key(COMMANDS);
        this.replies = client.key(REPLIES + client.nodeId());
        this.wait = client.config().commandTimeout().plusSeconds(1);
    }

    /** A channel over {@code client}: give it its handlers, then {@link #open} it. */
    public static CommandChannel create(ClusterClient client, Membership membership) {
        return new CommandChannel(client, membership);
    }

    /** Runs {@code handler} when another node asks for {@code command}. */
    public void handle(String command, Handler handler) {
        handlers.put(command, handler);
    }

    /**
     * Subscribes to the commands and to this node's answers, now and at every connection to Redis; after the handlers
     * are in, so that no request finds this node without them.
     */
    public CommandChannel open() {
        client.subscribe(commands, this::received);
        client.subscribe(replies, this::answered);
        return this;
    }

    public String nodeId() {
        return client.nodeId();
    }

    /**
     * Asks the other nodes to run {@code command} and waits for their answers, at most {@code deadline} after it
     * was published.
     *
     * @param to the one node that is to act; empty for every node
     */
    public Outcome request(String command, JsonNode args, Optional<String> to, Duration deadline) {
        if (!client.isUp()) {
            return Outcome.notSent("redis " + client.description() + " cannot be reached");
        }
        Set<String> expected = new HashSet<>();
        try {
            for (Membership.Member m : membership.alive()) {
                expected.add(m.node());
            }
        } catch (IOException e) {
            return Outcome.notSent(e.getMessage());
        }
        expected.remove(client.nodeId());
        to.ifPresent(node -> expected.retainAll(Set.of(node)));
        String id = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
        ObjectNode message = JSON.createObjectNode();
        message.put("v", VERSION);
        message.put("id", id);
        message.put("origin", client.nodeId());
        message.put("instance", membership.instance());
        message.put("command", command);
        to.ifPresent(node -> message.put("to", node));
        message.set("args", args);
        PendingRequest p = new PendingRequest(to.isPresent());
        // in before the message goes out: an answer can come back before PUBLISH's own reply does
        pending.put(id, p);
        long start = System.nanoTime();
        try {
            long receivers;
            try {
                receivers = client.<Long>command("commands-publish", c -> c.publish(commands, message.toString()))
                        .get(wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                return Outcome.notSent("redis " + client.description() + ": " + RedisErrors.reason(e.getCause()));
            } catch (TimeoutException e) {
                return Outcome.notSent("redis " + client.description() + " did not answer within " + wait);
            }
            // this node's own subscription is one of them
            int reached = (int) Math.max(0, receivers - 1);
            p.expect(expected, reached);
            long left = deadline.toNanos() - (System.nanoTime() - start);
            try {
                p.done.get(Math.max(0, left), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                // the answers so far are the outcome
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            }
            Duration waited = Duration.ofNanos(System.nanoTime() - start);
            return outcome(command, id, p, expected, reached, waited);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.notSent("interrupted");
        } finally {
            pending.remove(id);
        }
    }

    private Outcome outcome(
            String command, String id, PendingRequest p, Set<String> expected, int reached, Duration waited)
            throws InterruptedException {
        Map<String, JsonNode> replies = p.snapshot();
        Map<String, JsonNode> answers = new TreeMap<>();
        Map<String, CompletableFuture<String>> stored = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : replies.entrySet()) {
            String node = e.getKey();
            JsonNode reply = e.getValue();
            if (reply.has("error")) {
                log.warn(
                        "cluster: node {} could not run {} (request {}): {}",
                        node,
                        command,
                        id,
                        reply.get("error").asText());
            } else if (reply.path("stored").asBoolean()) {
                String key = storedKey(client.nodeId(), id, node);
                stored.put(node, client.command("commands-reply-read", c -> c.get(key)));
            } else {
                answers.put(node, reply.path("result"));
            }
        }
        for (Map.Entry<String, CompletableFuture<String>> e : stored.entrySet()) {
            String key = storedKey(client.nodeId(), id, e.getKey());
            try {
                String json = e.getValue().get(wait.toMillis(), TimeUnit.MILLISECONDS);
                if (json != null) {
                    answers.put(e.getKey(), JSON.readTree(json));
                    client.command("commands-reply-delete", c -> c.del(key));
                }
            } catch (ExecutionException | TimeoutException | IOException ex) {
                log.warn(
                        "cluster: the answer of node {} to {} could not be read: {}",
                        e.getKey(),
                        command,
                        ex.toString());
            }
        }
        List<String> missing = new ArrayList<>();
        for (String node : new TreeSet<>(expected)) {
            if (!answers.containsKey(node)) {
                missing.add(node);
            }
        }
        return new Outcome(true, Optional.empty(), reached, answers, missing, waited);
    }

    private String storedKey(String origin, String id, String node) {
        return client.key(REPLIES + origin + ":" + id + ":" + node);
    }

    /** A request (on the client's thread): runs it on the worker unless it is this process's own or another's. */
    private void received(String text) {
        JsonNode message;
        try {
            message = JSON.readTree(text);
        } catch (IOException e) {
            log.debug("cluster: a command message that is not JSON: {}", e.getMessage());
            return;
        }
        if (membership.instance().equals(message.path("instance").asText())) {
            return;
        }
        String to = message.path("to").asText(null);
        if (to != null && !to.equals(client.nodeId())) {
            return;
        }
        String origin = message.path("origin").asText();
        String id = message.path("id").asText();
        String command = message.path("command").asText();
        if (origin.isEmpty() || id.isEmpty()) {
            return;
        }
        Handler handler = handlers.get(command);
        try {
            worker.execute(() -> run(handler, command, origin, id, message.path("args")));
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private void run(Handler handler, String command, String origin, String id, JsonNode args) {
        ObjectNode reply = JSON.createObjectNode();
        reply.put("v", VERSION);
        reply.put("id", id);
        reply.put("node", client.nodeId());
        String channel = client.key(REPLIES + origin);
        if (handler == null) {
            reply.put("error", "unknown command '" + command + "'");
            publish(channel, reply);
            return;
        }
        JsonNode result;
        try {
            result = handler.apply(origin, args);
        } catch (RuntimeException e) {
            log.error("cluster: {} asked by node {} (request {}) failed", command, origin, id, e);
            reply.put("error", e.toString());
            publish(channel, reply);
            return;
        }
        String text = result.toString();
        if (text.length() <= INLINE_LIMIT) {
            reply.set("result", result);
            publish(channel, reply);
            return;
        }
        String key = storedKey(origin, id, client.nodeId());
        reply.put("stored", true);
        client.command("commands-reply-store", c -> c.set(key, text, SetArgs.Builder.px(REPLY_TTL.toMillis())))
                .thenCompose(ok -> client.command("commands-reply", c -> c.publish(channel, reply.toString())))
                .whenComplete((n, failure) -> logFailure(failure, origin));
    }

    private void publish(String channel, ObjectNode reply) {
        client.command("commands-reply", c -> c.publish(channel, reply.toString()))
                .whenComplete((n, failure) -> logFailure(failure, channel));
    }

    private static void logFailure(Throwable failure, String to) {
        if (failure != null) {
            log.warn("cluster: an answer to {} could not be sent: {}", to, RedisErrors.reason(failure));
        }
    }

    /** An answer (on the client's thread), to a request still waiting or one that gave up. */
    private void answered(String text) {
        JsonNode reply;
        try {
            reply = JSON.readTree(text);
        } catch (IOException e) {
            log.debug("cluster: an answer that is not JSON: {}", e.getMessage());
            return;
        }
        PendingRequest p = pending.get(reply.path("id").asText());
        String node = reply.path("node").asText();
        if (p == null) {
            log.debug("cluster: node {} answered request {} after its deadline", node, reply.path("id"));
            return;
        }
        p.add(node, reply);
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
