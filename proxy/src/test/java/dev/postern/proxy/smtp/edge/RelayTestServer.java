package dev.postern.proxy.smtp.edge;

import dev.postern.config.ConfigLoader;
import dev.postern.config.ListenerConfig;
import dev.postern.config.Pool;
import dev.postern.config.PosternConfig;
import dev.postern.config.TlsMode;
import dev.postern.proxy.SmtpFrontend;
import dev.postern.proxy.auth.Authenticator;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.routing.BackendConnector;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.transport.ListenerInitializer;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.Await;
import dev.postern.testkit.FakeTicker;
import io.netty.channel.Channel;
import io.netty.channel.WriteBufferWaterMark;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Relay listeners in the test's JVM with the DNS checks and the clock the test chooses: what {@link
 * dev.postern.proxy.Postern#start} builds, with a {@link SmtpFrontend.RelayChecks} of the test's own.
 */
final class RelayTestServer implements AutoCloseable {
    final Transport transport;
    final ProxyServices services;
    final PosternConfig config;
    final FakeTicker ticker = new FakeTicker();
    final Map<String, SmtpFrontend> frontends = new ConcurrentHashMap<>();
    private final Map<String, Channel> channels = new LinkedHashMap<>();

    private RelayTestServer(Transport transport, ProxyServices services, PosternConfig config) {
        this.transport = transport;
        this.services = services;
        this.config = config;
    }

    /**
     * Starts every listener of {@code yaml} (each {@code "127.0.0.1:0"} gets a free port), the relay ones with {@code reputation} and
     * {@code senders}, routes from the configuration.
     */
    static RelayTestServer start(String yaml, Path dir, ClientReputation reputation, SenderPolicy senders)
            throws Exception {
        return start(yaml, dir, reputation, senders, SharedPassedClients.NONE);
    }

    /** The same, as a node of a cluster whose nodes remember passed clients in {@code passed}. */
    static RelayTestServer start(
            String yaml, Path dir, ClientReputation reputation, SenderPolicy senders, SharedPassedClients passed)
            throws Exception {
        StringBuilder withPorts = new StringBuilder();
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("\"127\\.0\\.0\\.1:0\"").matcher(yaml);
        while (m.find()) {
            m.appendReplacement(withPorts, "\"127.0.0.1:" + dev.postern.proxy.testing.FreePorts.next() + "\"");
        }
        m.appendTail(withPorts);
        PosternConfig config = ConfigLoader.parse(withPorts.toString(), dir);
        TlsManager tls = config.listeners().stream().anyMatch(l -> l.tls() != TlsMode.NONE)
                        || config.pools().stream()
                                .flatMap(p -> p.backends().stream())
                                .anyMatch(b -> b.tls() != TlsMode.NONE)
                ? TlsManager.create(config.tls(), config.timeouts().tlsHandshake())
                : null;
        Transport transport = Transport.create(1, true);
        Map<String, PoolRuntime> pools = new LinkedHashMap<>();
        for (Pool p : config.pools()) {
            pools.put(p.name(), new PoolRuntime(p));
        }
        ProxyServices services = new ProxyServices(
                transport,
                tls,
                new BackendConnector(transport, Metrics.NOOP),
                Map.copyOf(pools),
                new SessionRegistry(Metrics.NOOP),
                new BackendCapabilities(),
                Metrics.NOOP);
        RelayTestServer server = new RelayTestServer(transport, services, config);
        SmtpFrontend.RelayChecks checks = SmtpFrontend.RelayChecks.fixed(
                        RecipientRouter.of(config.routes()), reputation, senders, server.ticker::read)
                .withPassedClients(passed);
        LoginFlow loginFlow = new LoginFlow(services, Authenticator.BACKEND);
        for (ListenerConfig l : config.listeners()) {
            SmtpFrontend frontend = new SmtpFrontend("relay.test", checks);
            server.frontends.put(l.name(), frontend);
            ListenerInitializer init =
                    services.listenerInitializer(l, ch -> frontend.install(ch, services, l, loginFlow));
            l.pool().map(pools::get).ifPresent(pool -> frontend.probe(services, pool));
            Channel ch = transport
                    .serverBootstrap(WriteBufferWaterMark.DEFAULT)
                    .childHandler(init)
                    .bind(new InetSocketAddress(l.bind().host(), l.bind().port()))
                    .sync()
                    .channel();
            server.channels.put(l.name(), ch);
        }
        return server;
    }

    int port(String listener) {
        return ((InetSocketAddress) channels.get(listener).localAddress()).getPort();
    }

    int sessions() {
        return services.sessions().size();
    }

    void awaitNoSessions() {
        Await.until("all sessions closed", Duration.ofSeconds(10), () -> sessions() == 0);
    }

    /** Waits until the probe learned the EHLO keywords of {@code pool}. */
    void awaitKeywords(String pool) {
        Await.until("keywords of " + pool, Duration.ofSeconds(10), () -> services.capabilities()
                .get(pool, dev.postern.config.Protocol.SMTP)
                .isPresent());
    }

    @Override
    public void close() {
        channels.values().forEach(c -> c.close().syncUninterruptibly());
        services.sessions().closeAll(dev.postern.proxy.session.CloseReason.SHUTDOWN);
        transport.shutdown(Duration.ZERO, Duration.ofSeconds(5));
    }
}
