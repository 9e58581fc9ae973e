package dev.postern.admin;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The admin API's commands that reach every node of a cluster: the proxy implements it in cluster mode (see {@link
 * ProxyControl#cluster()}). Each command acts on this node at once, then asks the other nodes, and waits for their
 * answers at most {@link #deadline()}; it never fails because Redis is down: the report then says the cluster was
 * {@linkplain ClusterReport.Reach#UNREACHABLE unreachable}, with this node's part done.
 *
 * <p>Called on admin worker threads, which each of these blocks for up to the deadline.
 */
public interface ClusterControl {
    /** This node's id in the cluster. */
    String nodeId();

    /** How long a command waits for the other nodes' answers. */
    Duration deadline();

    /** Closes every session of {@code user} on every node; each node answers how many it closed. */
    ClusterReport<Integer> killUserSessions(String user);

    /**
     * Closes session {@code id} wherever it is open: on this node without asking the others; else on the node that
     * answers it has it. Each node that answered says whether it closed it.
     */
    ClusterReport<Boolean> killSession(String id);

    /**
     * Forgets cached logins on every node: {@code user}'s, or every one when empty; each node answers how many cached
     * answers it dropped.
     */
    ClusterReport<Integer> invalidateAuth(Optional<String> user);

    /** Reloads the certificates on every node, each from its own files; each node answers how it went. */
    ClusterReport<TlsReloadResult> reloadTls();

    /**
     * Reloads the configuration on every node, each from its own file; each node answers how it went (a node whose
     * file has problems keeps its configuration, the others apply theirs).
     */
    ClusterReport<ConfigReloadResult> reloadConfig();

    /** The live sessions {@code filter} matches on every node: each node's count and at most its oldest {@code limit}. */
    ClusterReport<SessionPage> sessions(SessionFilter filter, int limit);

    /**
     * The nodes alive now (those whose heartbeat has not expired), this one included, sorted by id.
     *
     * @throws ClusterUnavailableException Redis cannot be reached
     */
    List<NodeView> nodes() throws ClusterUnavailableException;
}
