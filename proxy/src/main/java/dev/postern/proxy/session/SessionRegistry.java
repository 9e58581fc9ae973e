package dev.postern.proxy.session;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.metrics.Metrics;
import io.netty.channel.Channel;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live sessions of this process. Creates each session, and when its client channel closes, closes the backend
 * too, writes the one INFO line the session gets, and counts it.
 */
public final class SessionRegistry {
    private static final Logger log = LoggerFactory.getLogger("postern.session");

    private static final char NODE_SEPARATOR = '-';

    private final ConcurrentHashMap<String, Session> live = new ConcurrentHashMap<>();
    private final AtomicLong counter = new AtomicLong();
    private final String prefix;
    private final Optional<String> nodeId;
    private final Metrics metrics;
    private volatile CompletableFuture<Void> drained;

    public SessionRegistry(Metrics metrics) {
        this(metrics, null);
    }

    /**
     * The live sessions of a cluster node: their ids start with {@code nodeId} and a dash ({@code mx1-3fa9c01}), so
     * that they are unique across the cluster, and tell an admin API on any node where a session is.
     *
     * @param nodeId the node's id in the cluster; null for a node on its own (ids as {@code 3fa9c01})
     */
    public SessionRegistry(Metrics metrics, String nodeId) {
        this.metrics = metrics;
        // a per-process part keeps ids unique across restarts (and, without a node id, across nodes too)
        byte[] random = new byte[3];
        new SecureRandom().nextBytes(random);
        String process = String.format(Locale.ROOT, "%02x%02x%02x", random[0], random[1], random[2]);
        this.prefix = nodeId == null ? process : nodeId + NODE_SEPARATOR + process;
        this.nodeId = Optional.ofNullable(nodeId);
    }

    /** The cluster node these sessions are open on; empty for a node on its own. */
    public Optional<String> nodeId() {
        return nodeId;
    }

    /**
     * The node a cluster session id names ({@code mx1} for {@code mx1-3fa9c01}); empty for an id without one. The
     * part after the last dash never holds one, so a node id may.
     */
    public static Optional<String> nodeOf(String sessionId) {
        int dash = sessionId.lastIndexOf(NODE_SEPARATOR);
        return dash > 0 ? Optional.of(sessionId.substring(0, dash)) : Optional.empty();
    }

    /** Starts tracking a new client connection. Call on the client channel's event loop, when it becomes active. */
    public Session open(ListenerConfig listener, Channel client) {
        String id = prefix + Long.toString(counter.incrementAndGet(), 36);
        Session session = new Session(id, listener, client);
        client.attr(Session.KEY).set(session);
        live.put(id, session);
        metrics.sessionOpened(listener);
        client.closeFuture().addListener(f -> closed(session));
        return session;
    }

    private void closed(Session session) {
        // unless something else ended the session first, it is the client that went away
        session.markClosing(CloseReason.CLIENT_CLOSED, null);
        Channel backend = session.backend();
        if (backend != null) {
            backend.close();
        }
        live.remove(session.id());
        CloseReason reason = session.closeReason();
        metrics.sessionClosed(
                session.listener(),
                reason == null ? null : reason.label(),
                session.ageNanos(),
                session.bytesFromClient(),
                session.bytesToClient());
        logClose(session);
        CompletableFuture<Void> d = drained;
        if (d != null && live.isEmpty()) {
            d.complete(null);
        }
    }

    private static void logClose(Session s) {
        if (log.isInfoEnabled()) {
            SessionCloseLine.log(log, s);
        }
    }

    public int size() {
        return live.size();
    }

    public Collection<Session> sessions() {
        return List.copyOf(live.values());
    }

    public List<Session> find(Predicate<Session> filter) {
        List<Session> out = new ArrayList<>();
        for (Session s : live.values()) {
            if (filter.test(s)) {
                out.add(s);
            }
        }
        return out;
    }

    /** Completes when no session is left (at once if none is). */
    public CompletableFuture<Void> whenEmpty() {
        CompletableFuture<Void> d = new CompletableFuture<>();
        drained = d;
        if (live.isEmpty()) {
            d.complete(null);
        }
        return d;
    }

    /** Closes every live session with {@code reason}. */
    public void closeAll(CloseReason reason) {
        for (Session s : live.values()) {
            s.client().eventLoop().execute(() -> {
                if (reason == CloseReason.SHUTDOWN) {
                    s.closeForShutdown();
                } else {
                    s.close(reason, null);
                }
            });
        }
    }
}
