package dev.postern.proxy.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.admin.ClusterControl;
import dev.postern.admin.ClusterReport;
import dev.postern.admin.ClusterUnavailableException;
import dev.postern.admin.ConfigReloadJson;
import dev.postern.admin.ConfigReloadResult;
import dev.postern.admin.NodeView;
import dev.postern.admin.SessionFilter;
import dev.postern.admin.SessionPage;
import dev.postern.admin.SessionView;
import dev.postern.admin.TlsReloadResult;
import dev.postern.proxy.auth.AuthControl;
import dev.postern.proxy.cluster.ClusterClient;
import dev.postern.proxy.cluster.CommandChannel;
import dev.postern.proxy.cluster.Membership;
import dev.postern.proxy.cluster.RedisHolds;
import dev.postern.proxy.hold.Holds;
import dev.postern.proxy.session.SessionRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API's cluster-wide commands ({@link ClusterControl}) on the {@link CommandChannel}: each acts on this node
 * first, through the local {@link PosternControl}, then asks the other nodes, which run the same local action when
 * they hear it. Owns this node's heartbeat ({@link Membership}) and its end of the channel, so that a node answers the
 * others whether or not it runs an admin API itself.
 *
 * <p>A command waits for the others at most {@code cluster.command-timeout}: the answers come back in milliseconds,
 * and an admin worker should not be held longer than a command to Redis may take.
 */
public final class ClusterCommands implements ClusterControl, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterCommands.class);
    static final String KILL_USER = "kill-user";
    static final String KILL_SESSION = "kill-session";
    static final String FLUSH_AUTH = "flush-auth";
    static final String RELOAD_TLS = "reload-tls";
    static final String RELOAD_CONFIG = "reload-config";
    static final String SESSIONS = "sessions";
    static final String HOLD = "hold";
    static final String RELEASE = "release";

    private final Membership membership;
    private final CommandChannel channel;
    private final PosternControl local;
    private final AuthControl auth;
    private final Duration deadline;
    private volatile Holds holds;
    private final ClusterClient client;
    private volatile RedisHolds kept;

    private ClusterCommands(
            ClusterClient client,
            Membership membership,
            CommandChannel channel,
            PosternControl local,
            AuthControl auth,
            Duration deadline) {
        this.client = client;
        this.membership = membership;
        this.channel = channel;
        this.local = local;
        this.auth = auth;
        this.deadline = deadline;
    }

    /**
     * Joins the cluster: starts the heartbeat, subscribes to the commands, and answers them with {@code local}.
     *
     * @param sessions this node's sessions (their count goes into the heartbeat)
     * @param deadline how long a command waits for the other nodes
     */
    public static ClusterCommands start(
            ClusterClient client, SessionRegistry sessions, PosternControl local, AuthControl auth, Duration deadline) {
        Membership membership = Membership.start(client, sessions::size);
        CommandChannel channel = CommandChannel.create(client, membership);
        ClusterCommands c = new ClusterCommands(client, membership, channel, local, auth, deadline);
        channel.handle(KILL_USER, c::killUserHere);
        channel.handle(KILL_SESSION, c::killSessionHere);
        channel.handle(FLUSH_AUTH, c::flushHere);
        channel.handle(RELOAD_TLS, (origin, args) -> {
            log.info("cluster: node {} asked for a certificate reload", origin);
            return ViewJson.reload(local.reloadTls());
        });
        channel.handle(RELOAD_CONFIG, (origin, args) -> {
            log.info("cluster: node {} asked for a configuration reload", origin);
            return ConfigReloadJson.write(ViewJson.MAPPER.createObjectNode(), local.reloadConfig());
        });
        channel.handle(
                SESSIONS,
                (origin, args) -> ViewJson.page(
                        c.page(ViewJson.filter(args), args.path("limit").asInt(1000))));
        channel.open();
        return c;
    }

    /**
     * Answers the other nodes' holds and releases with {@code local}: a hold set on one node holds logins on all. The
     * holds are kept in Redis too ({@link RedisHolds}), so that a node that starts or reconnects while one is in force
     * takes it.
     */
    public void shareHolds(Holds local) {
        holds = local;
        kept = RedisHolds.start(client, local);
        channel.handle(HOLD, (origin, args) -> {
            String user = args.path("user").asText();
            local.hold(user, Duration.ofMillis(args.path("timeout-ms").asLong()), origin);
            return ViewJson.MAPPER.createObjectNode().put("held", true);
        });
        channel.handle(RELEASE, (origin, args) -> {
            boolean found = local.release(
                    args.path("user").asText(), args.path("min-revision").asLong());
            return ViewJson.MAPPER.createObjectNode().put("held", found);
        });
    }

    /** Holds {@code user}'s logins here, then on every other node. */
    public ClusterReport<Boolean> hold(String user, Duration timeout) {
        holds.hold(user, timeout, nodeId());
        kept.stored(user, timeout, nodeId());
        ObjectNode args = ViewJson.MAPPER.createObjectNode().put("user", user).put("timeout-ms", timeout.toMillis());
        return report(true, channel.request(HOLD, args, Optional.empty(), deadline), r -> r.path("held")
                .asBoolean());
    }

    /** Releases {@code user}'s hold here, then on every other node; each answers whether it held the user. */
    public ClusterReport<Boolean> release(String user, long minRevision) {
        boolean mine = holds.release(user, minRevision);
        kept.removed(user);
        ObjectNode args = ViewJson.MAPPER.createObjectNode().put("user", user).put("min-revision", minRevision);
        return report(mine, channel.request(RELEASE, args, Optional.empty(), deadline), r -> r.path("held")
                .asBoolean());
    }

    @Override
    public String nodeId() {
        return channel.nodeId();
    }

    @Override
    public Duration deadline() {
        return deadline;
    }

    @Override
    public ClusterReport<Integer> killUserSessions(String user) {
        int mine = local.killUserSessions(user);
        ObjectNode args = ViewJson.MAPPER.createObjectNode().put("user", user);
        return report(mine, channel.request(KILL_USER, args, Optional.empty(), deadline), r -> r.path("killed")
                .asInt());
    }

    @Override
    public ClusterReport<Boolean> killSession(String id) {
        if (local.killSession(id)) {
            return new ClusterReport<>(
                    ClusterReport.Reach.COMPLETE,
                    Map.of(nodeId(), true),
                    List.of(),
                    0,
                    Duration.ZERO,
                    Optional.empty());
        }
        Optional<String> owner = SessionRegistry.nodeOf(id);
        if (owner.filter(nodeId()::equals).isPresent()) {
            // one of this node's ids, and it is not open here: no other node has it
            return new ClusterReport<>(
                    ClusterReport.Reach.COMPLETE,
                    Map.of(nodeId(), false),
                    List.of(),
                    0,
                    Duration.ZERO,
                    Optional.empty());
        }
        ObjectNode args = ViewJson.MAPPER.createObjectNode().put("id", id);
        return report(false, channel.request(KILL_SESSION, args, owner, deadline), r -> r.path("killed")
                .asBoolean());
    }

    @Override
    public ClusterReport<Integer> invalidateAuth(Optional<String> user) {
        int mine = flush(user);
        ObjectNode args = ViewJson.MAPPER.createObjectNode();
        user.ifPresent(u -> args.put("user", u));
        return report(mine, channel.request(FLUSH_AUTH, args, Optional.empty(), deadline), r -> r.path("entries")
                .asInt());
    }

    @Override
    public ClusterReport<TlsReloadResult> reloadTls() {
        TlsReloadResult mine = local.reloadTls();
        return report(
                mine,
                channel.request(RELOAD_TLS, ViewJson.MAPPER.createObjectNode(), Optional.empty(), deadline),
                ViewJson::reload);
    }

    @Override
    public ClusterReport<ConfigReloadResult> reloadConfig() {
        ConfigReloadResult mine = local.reloadConfig();
        return report(
                mine,
                channel.request(RELOAD_CONFIG, ViewJson.MAPPER.createObjectNode(), Optional.empty(), deadline),
                ConfigReloadJson::read);
    }

    @Override
    public ClusterReport<SessionPage> sessions(SessionFilter filter, int limit) {
        SessionPage mine = page(filter, limit);
        CommandChannel.Outcome outcome =
                channel.request(SESSIONS, ViewJson.filter(filter, limit), Optional.empty(), deadline);
        Map<String, SessionPage> others = new LinkedHashMap<>();
        outcome.answers().forEach((node, r) -> others.put(node, ViewJson.page(r, node)));
        return report(mine, outcome, others);
    }

    @Override
    public List<NodeView> nodes() throws ClusterUnavailableException {
        List<NodeView> nodes = new ArrayList<>();
        try {
            for (Membership.Member m : membership.alive()) {
                nodes.add(new NodeView(m.node(), m.started(), m.heartbeat(), m.sessions()));
            }
        } catch (IOException e) {
            throw new ClusterUnavailableException(e.getMessage());
        }
        return nodes;
    }

    private SessionPage page(SessionFilter filter, int limit) {
        List<SessionView> sessions = local.sessions(filter);
        return new SessionPage(sessions.size(), sessions.subList(0, Math.min(limit, sessions.size())));
    }

    private int flush(Optional<String> user) {
        if (user.isPresent()) {
            return auth.invalidate(user.get());
        }
        int entries = (int) Math.min(Integer.MAX_VALUE, auth.stats().cache().size());
        auth.invalidateAll();
        return entries;
    }

    private JsonNode killUserHere(String origin, JsonNode args) {
        String user = args.path("user").asText();
        int killed = local.killUserSessions(user);
        log.info("cluster: node {} asked to close the sessions of {}: {} closed here", origin, user, killed);
        return ViewJson.MAPPER.createObjectNode().put("killed", killed);
    }

    private JsonNode killSessionHere(String origin, JsonNode args) {
        String id = args.path("id").asText();
        boolean killed = local.killSession(id);
        log.info("cluster: node {} asked to close session {}: {}", origin, id, killed ? "closed" : "not open here");
        return ViewJson.MAPPER.createObjectNode().put("killed", killed);
    }

    private JsonNode flushHere(String origin, JsonNode args) {
        Optional<String> user = Optional.ofNullable(args.path("user").asText(null));
        int entries = flush(user);
        log.info(
                "cluster: node {} asked to forget the cached logins of {}: {} forgotten here",
                origin,
                user.orElse("every user"),
                entries);
        return ViewJson.MAPPER.createObjectNode().put("entries", entries);
    }

    private <T> ClusterReport<T> report(T mine, CommandChannel.Outcome outcome, Function<JsonNode, T> decode) {
        Map<String, T> others = new LinkedHashMap<>();
        outcome.answers().forEach((node, r) -> others.put(node, decode.apply(r)));
        return report(mine, outcome, others);
    }

    private <T> ClusterReport<T> report(T mine, CommandChannel.Outcome outcome, Map<String, T> others) {
        if (!outcome.sent()) {
            return ClusterReport.unreachable(nodeId(), mine, outcome.why().orElse("redis cannot be reached"));
        }
        Map<String, T> answers = new LinkedHashMap<>();
        answers.put(nodeId(), mine);
        answers.putAll(others);
        return new ClusterReport<>(
                outcome.missing().isEmpty() ? ClusterReport.Reach.COMPLETE : ClusterReport.Reach.PARTIAL,
                answers,
                outcome.missing(),
                outcome.reached(),
                outcome.waited(),
                Optional.empty());
    }

    /** Leaves the cluster: no more answers to the others, and this node's heartbeat taken out. */
    @Override
    public void close() {
        channel.close();
        membership.close();
    }
}
