package dev.postern.proxy;

import dev.postern.admin.AdminServer;
import dev.postern.admin.AdminSettings;
import dev.postern.admin.AdminStartException;
import dev.postern.admin.ProxyControl;
import dev.postern.config.ClusterConfig;
import dev.postern.config.ConfigException;
import dev.postern.config.ConfigProblem;
import dev.postern.config.HealthCheckConfig;
import dev.postern.config.HostPort;
import dev.postern.config.ListenerConfig;
import dev.postern.config.LocalRouteStore;
import dev.postern.config.Pool;
import dev.postern.config.PosternConfig;
import dev.postern.config.Protocol;
import dev.postern.config.RouteStore;
import dev.postern.config.SmtpConfig;
import dev.postern.config.SpfConfig;
import dev.postern.proxy.cluster.ClusterClient;
import dev.postern.proxy.cluster.RedisRouteStore;
import dev.postern.proxy.dns.DnsClient;
import dev.postern.proxy.dns.NettyDnsClient;
import dev.postern.proxy.frontend.FrontendFactory;
import dev.postern.proxy.health.HealthChecks;
import dev.postern.proxy.imap.ImapBackendDialogue;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.metrics.PrometheusMetrics;
import dev.postern.proxy.pop3.Pop3BackendDialogue;
import dev.postern.proxy.routing.HealthCheck;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.smtp.edge.SharedPassedClients;
import dev.postern.proxy.smtp.submission.SubmissionFrontend;
import dev.postern.proxy.tcp.TcpFrontend;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.transport.HandlerNames;
import dev.postern.proxy.transport.ListenerInitializer;
import dev.postern.proxy.transport.ListenerSlot;
import dev.postern.proxy.transport.Transport;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The steps of {@link Postern#start} that build one piece each. */
final class Startup {
    private static final Logger log = LoggerFactory.getLogger(Startup.class);

    private Startup() {}

    /** The route store: the file when one is configured (created from this configuration the first time). */
    static LocalRouteStore openRouteStore(PosternConfig config, Supplier<PosternConfig> live) throws StartupException {
        LocalRouteStore store;
        if (config.routeStore().isPresent()) {
            try {
                store = LocalRouteStore.open(config.routeStore().get(), config.routingSeed());
            } catch (ConfigException e) {
                throw new StartupException("route store: " + e.getMessage().replace('\n', ';'), e);
            } catch (IOException e) {
                throw new StartupException("route store " + config.routeStore().get() + ": " + e.getMessage(), e);
            }
        } else {
            store = LocalRouteStore.inMemory(config.routingSeed());
        }
        for (ListenerConfig l : config.listeners()) {
            if (l.pool().isPresent() && store.current().pool(l.pool().get()).isEmpty()) {
                throw new StartupException("route store " + store.file() + " has no pool '"
                        + l.pool().get() + "', which listener '" + l.name() + "' uses");
            }
        }
        keepListenerPools(live, store);
        return store;
    }

    /** The pools listeners name must stay: the store refuses tables (from the admin API) without them. */
    /** (The configuration in force at each change: a reload may name other pools.) */
    static void keepListenerPools(Supplier<PosternConfig> config, RouteStore store) {
        store.addValidator(table -> {
            List<ConfigProblem> problems = new ArrayList<>();
            for (ListenerConfig l : config.get().listeners()) {
                l.pool()
                        .filter(p -> table.pool(p).isEmpty())
                        .ifPresent(p -> problems.add(
                                new ConfigProblem("pools", "pool '" + p + "' is used by listener '" + l.name() + "'")));
            }
            return problems;
        });
    }

    /**
     * Cluster mode's store: the table shared in Redis, this node's own table ({@code local}) as the last one it saw.
     * Waits briefly for the first read of the shared table, so that the listeners start with the cluster's routes;
     * when Redis does not answer, the node starts with its own and takes the shared one when Redis is back.
     */
    static RedisRouteStore sharedStore(
            PosternConfig config,
            Supplier<PosternConfig> live,
            ClusterClient cluster,
            LocalRouteStore local,
            Metrics metrics) {
        RedisRouteStore store = RedisRouteStore.start(cluster, local, metrics);
        keepListenerPools(live, store);
        ClusterConfig c = config.cluster().orElseThrow();
        Duration wait = c.connectTimeout().plus(c.commandTimeout().multipliedBy(2));
        if (!store.awaitFirstSync(wait)) {
            log.warn(
                    "cluster: no answer from redis {} yet; starting with this node's revision {}, and taking the"
                            + " shared table when redis answers",
                    cluster.description(),
                    store.current().revision());
        }
        return store;
    }

    /** This node's name in Redis: the configured one, else the host name and the admin API's (or a listener's) port. */
    static String nodeId(PosternConfig config) {
        Optional<String> configured = config.cluster().flatMap(ClusterConfig::nodeId);
        if (configured.isPresent()) {
            return configured.get();
        }
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "postern-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        }
        int port = config.admin()
                .bind()
                .map(HostPort::port)
                .orElseGet(() -> config.listeners().isEmpty()
                        ? 0
                        : config.listeners().get(0).bind().port());
        return host.replaceAll("[^A-Za-z0-9._-]", "-") + ":" + port;
    }

    /**
     * The protocol a pool's health check speaks when its configuration names none: that of the listeners using it,
     * else the one protocol its backends have ports for, else a plain TCP connect.
     */
    static Protocol checkProtocol(PosternConfig config, Pool pool) {
        return HealthCheckConfig.derivedProtocol(pool, config.listeners());
    }

    /**
     * The health check of each mode. A login check speaks the protocols' own backend dialogues, which need the
     * services: the checker starts once they exist.
     */
    static Function<HealthCheckConfig.Mode, HealthCheck> healthChecks(
            Transport transport, TlsManager tls, Supplier<ProxyServices> services) {
        return HealthChecks.of(transport, tls, protocol -> {
            ProxyServices s = services.get();
            if (s == null) {
                return null;
            }
            return switch (protocol) {
                case IMAP -> new ImapBackendDialogue(s);
                case POP3 -> new Pop3BackendDialogue(s);
                case SMTP -> SubmissionFrontend.backendDialogue(s, SmtpFrontend.machineHostName());
                default -> null;
            };
        });
    }

    /**
     * The resolver of the SMTP relay's DNS lists and SPF checks, shared by every listener; null when no relay listener
     * asks DNS.
     */
    static DnsClient dnsClient(PosternConfig config, Transport transport) {
        boolean needed = config.listeners().stream()
                .map(ListenerConfig::smtp)
                .anyMatch(s -> s.role() == SmtpConfig.Role.RELAY
                        && (s.dnsbl().isPresent() || s.spf().policy() != SpfConfig.Policy.OFF));
        return needed ? NettyDnsClient.create(config.dns(), transport) : null;
    }

    /**
     * Binds one listener with its front end ({@code dns}: the relay's resolver, or null; {@code passed}: the cluster's
     * memory of the relay's passed clients), and starts the probe of its pool.
     */
    static ListenerSlot bind(
            ProxyServices services, ListenerConfig l, LoginFlow loginFlow, DnsClient dns, SharedPassedClients passed)
            throws StartupException {
        ListenerInitializer init = initializer(services, l, loginFlow, dns, passed, true);
        HostPort hp = l.bind();
        InetSocketAddress address =
                hp.isWildcard() ? new InetSocketAddress(hp.port()) : new InetSocketAddress(hp.host(), hp.port());
        if (address.isUnresolved()) {
            throw new StartupException("listener '" + l.name() + "': cannot resolve bind address " + hp.host());
        }
        try {
            return ListenerSlot.bind(services.transport(), address, init);
        } catch (ListenerSlot.BindFailure e) {
            throw new StartupException(
                    "listener '" + l.name() + "': cannot bind " + hp + ": " + osMessage(e.getCause()), e.getCause());
        }
    }

    /**
     * What a listener's new connections get: its settings, its front end, its login flow ({@code probe}: also start
     * the EHLO/CAPA probe of its pool, once for a listener bound or changed).
     */
    static ListenerInitializer initializer(
            ProxyServices services,
            ListenerConfig l,
            LoginFlow loginFlow,
            DnsClient dns,
            SharedPassedClients passed,
            boolean probe) {
        if (l.protocol() == Protocol.TCP) {
            return services.listenerInitializer(
                    l, ch -> ch.pipeline().addLast(HandlerNames.TCP_FRONTEND, new TcpFrontend(services, l)));
        }
        FrontendFactory frontend =
                Frontends.forProtocol(l.protocol(), dns, passed).orElseThrow();
        if (probe) {
            l.pool().map(services.pools()::get).ifPresent(pool -> frontend.probe(services, pool));
        }
        return services.listenerInitializer(l, ch -> frontend.install(ch, services, l, loginFlow));
    }

    /** The operating system's words for a socket error, without Netty's native call decoration. */
    static String osMessage(Throwable t) {
        String m = String.valueOf(t.getMessage());
        int i = m.indexOf("): ");
        return m.contains("failed with error(") && i > 0 ? m.substring(i + 3) : m;
    }

    /** The admin API, when configured; null otherwise. */
    static AdminServer startAdmin(
            PosternConfig config, RouteStore store, ProxyServices services, ProxyControl control, Metrics metrics)
            throws StartupException {
        if (config.admin().bind().isEmpty()) {
            return null;
        }
        PrometheusRegistry registry = metrics instanceof PrometheusMetrics p ? p.registry() : new PrometheusRegistry();
        TlsManager tls = services.tls();
        try {
            return AdminServer.start(
                    AdminSettings.from(config.admin()),
                    store,
                    control,
                    registry,
                    config.admin().tls() ? tls::newServerHandler : null,
                    services.transport().workerGroup(),
                    services.transport().serverChannelType());
        } catch (AdminStartException e) {
            throw new StartupException("admin API: " + e.getMessage(), e);
        }
    }
}
