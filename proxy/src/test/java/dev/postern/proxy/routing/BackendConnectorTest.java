package dev.postern.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ConfigLoader;
import dev.postern.config.ListenerConfig;
import dev.postern.config.PosternConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Connecting a session to a backend: the pool's backends in order, the next on a refused connection, and the last one
 * once more before giving up (a loaded backend may reset one connection and take the next).
 */
class BackendConnectorTest {
    private static final WriteBufferWaterMark WM = new WriteBufferWaterMark(8192, 16384);

    private final List<String> attempts = new CopyOnWriteArrayList<>();
    private final Metrics metrics = new Metrics() {
        @Override
        public void backendConnect(String pool, String backend, boolean ok, long nanos) {
            attempts.add(backend + (ok ? " ok" : " failed"));
        }
    };
    private Transport transport;
    private Channel acceptor;
    private Channel backend;

    @BeforeEach
    void setUp() throws Exception {
        transport = Transport.create(1, true);
        acceptor = server();
        backend = server();
    }

    @AfterEach
    void tearDown() {
        acceptor.close();
        backend.close();
        transport.close();
    }

    private Channel server() throws InterruptedException {
        return new ServerBootstrap()
                .group(transport.workerGroup())
                .channel(transport.serverChannelType())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {}
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .sync()
                .channel();
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Future<BackendConnector.Connection> connect(String yaml) throws Exception {
        PosternConfig config = ConfigLoader.parse(yaml, Path.of("."));
        ListenerConfig listener = config.listeners().get(0);
        PoolRuntime pool = new PoolRuntime(config.pools().get(0));
        SessionRegistry sessions = new SessionRegistry(Metrics.NOOP);
        Channel client = transport
                .backendBootstrap(transport.workerGroup().next(), Duration.ofSeconds(5), WM)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(acceptor.localAddress())
                .sync()
                .channel();
        Session session =
                client.eventLoop().submit(() -> sessions.open(listener, client)).get(5, TimeUnit.SECONDS);
        BackendConnector connector = new BackendConnector(transport, metrics);
        return client.eventLoop()
                .submit(() -> connector.connect(
                        session,
                        pool,
                        Protocol.TCP,
                        b -> new ChannelInboundHandlerAdapter(),
                        Duration.ofSeconds(5),
                        WM,
                        pool.backends().size(),
                        null))
                .get(5, TimeUnit.SECONDS)
                .await();
    }

    @Test
    void aRefusedLastBackendIsTriedOnceMoreBeforeGivingUp() throws Exception {
        Future<BackendConnector.Connection> f = connect(
                """
                listeners:
                  - {name: t, protocol: tcp, bind: "127.0.0.1:1", pool: p}
                pools:
                  - {name: p, backends: [{id: only, address: "127.0.0.1:%d"}]}
                """
                        .formatted(closedPort()));

        assertThat(f.isSuccess()).isFalse();
        assertThat(f.cause()).isInstanceOf(BackendConnector.NoBackendException.class);
        assertThat(attempts).containsExactly("only failed", "only failed");
    }

    @Test
    void aRefusedBackendPassesTheSessionToTheNextOne() throws Exception {
        Future<BackendConnector.Connection> f = connect(
                """
                listeners:
                  - {name: t, protocol: tcp, bind: "127.0.0.1:1", pool: p}
                pools:
                  - name: p
                    balancer: round-robin
                    backends:
                      - {id: down, address: "127.0.0.1:%d", weight: 1000}
                      - {id: up, address: "127.0.0.1:%d", weight: 1}
                """
                        .formatted(closedPort(), ((InetSocketAddress) backend.localAddress()).getPort()));

        assertThat(f.isSuccess()).isTrue();
        assertThat(f.getNow().backend().id()).isEqualTo("up");
        assertThat(attempts).containsExactly("down failed", "up ok");
        f.getNow().channel().close();
    }

    @Test
    void whenEveryBackendRefusesOnlyTheLastIsRetried() throws Exception {
        Future<BackendConnector.Connection> f = connect(
                """
                listeners:
                  - {name: t, protocol: tcp, bind: "127.0.0.1:1", pool: p}
                pools:
                  - name: p
                    balancer: round-robin
                    backends:
                      - {id: a, address: "127.0.0.1:%d", weight: 1000}
                      - {id: b, address: "127.0.0.1:%d", weight: 1}
                """
                        .formatted(closedPort(), closedPort()));

        assertThat(f.isSuccess()).isFalse();
        assertThat(attempts).containsExactly("a failed", "b failed", "b failed");
    }
}
