package dev.postern.proxy.login;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ConfigLoader;
import dev.postern.config.HoldsConfig;
import dev.postern.config.ListenerConfig;
import dev.postern.config.PosternConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.auth.AuthResult;
import dev.postern.proxy.auth.Authenticator;
import dev.postern.proxy.hold.Holds;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.routing.BackendConnector;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.Await;
import dev.postern.testkit.FakeLineBackend;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link LoginFlow} with {@link Holds}: held logins wait and go on, and a login past the hold when it began redoes. */
class LoginFlowHoldTest {
    private static final String USER = "alice";

    private Transport transport;
    private FakeLineBackend backend;
    private Channel acceptor;
    private ProxyServices services;
    private ListenerConfig listener;
    private Holds holds;
    private LoginFlow flow;
    /** When set, the backend answers a LOGIN only once it is counted down. */
    private volatile CountDownLatch gate;

    @BeforeEach
    void setUp() throws Exception {
        transport = Transport.create(1, true);
        backend = FakeLineBackend.builder()
                .tagged()
                .greeting("* OK fake")
                .on("LOGIN", (c, line) -> {
                    CountDownLatch g = gate;
                    if (g != null) {
                        g.await(10, TimeUnit.SECONDS);
                    }
                    c.send(c.tagOf(line) + " OK logged in");
                })
                .start();
        PosternConfig config = ConfigLoader.parse(
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:1", pool: a}
                pools:
                  - {name: a, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(backend.port()),
                Path.of("."));
        listener = config.listeners().get(0);
        services = new ProxyServices(
                transport,
                null,
                new BackendConnector(transport, Metrics.NOOP),
                Map.of("a", new PoolRuntime(config.pools().get(0))),
                new SessionRegistry(Metrics.NOOP),
                new BackendCapabilities(),
                Metrics.NOOP);
        holds = new Holds(new HoldsConfig(Duration.ofMillis(300), 10), Clock.systemUTC(), Metrics.NOOP, () -> 1);
        Authenticator everyone = request -> CompletableFuture.completedFuture(
                new AuthResult.Accepted(request.credentials().user(), Optional.empty(), Optional.empty()));
        flow = new LoginFlow(services, everyone, null, holds);
        acceptor = new ServerBootstrap()
                .group(transport.workerGroup())
                .channel(transport.serverChannelType())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // the server side of client connections only has to exist
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .sync()
                .channel();
    }

    @AfterEach
    void tearDown() {
        acceptor.close();
        backend.close();
        transport.close();
    }

    private Future<LoginOutcome> start() throws Exception {
        Channel client = transport
                .backendBootstrap(
                        transport.workerGroup().next(), Duration.ofSeconds(5), new WriteBufferWaterMark(8192, 16384))
                .handler(new ChannelInboundHandlerAdapter())
                .connect(acceptor.localAddress())
                .sync()
                .channel();
        Session s = client.eventLoop()
                .submit(() -> services.sessions().open(listener, client))
                .get(5, TimeUnit.SECONDS);
        AuthRequest request = new AuthRequest(
                Credentials.password(SaslMechanism.LOGIN, USER, "pw"),
                Protocol.IMAP,
                "imap",
                new InetSocketAddress("192.0.2.44", 40000),
                new InetSocketAddress("127.0.0.1", 143),
                null,
                null,
                1,
                s.id(),
                null);
        return client.eventLoop()
                .submit(() -> flow.login(s, request, new FakeDialogue()))
                .get(5, TimeUnit.SECONDS);
    }

    private int waiting() {
        return holds.holds().stream().mapToInt(Holds.Hold::waiting).sum();
    }

    @Test
    void aHeldLoginReachesNoBackendUntilTheRelease() throws Exception {
        holds.hold(USER, Duration.ofMinutes(1), "local");
        Future<LoginOutcome> login = start();
        Await.until("the login is held", Duration.ofSeconds(5), () -> waiting() == 1);
        assertThat(backend.connectionCount()).isZero();

        holds.release(USER, 0);

        assertThat(login.get(10, TimeUnit.SECONDS)).isInstanceOf(LoginOutcome.Success.class);
        assertThat(backend.connectionCount()).isEqualTo(1);
    }

    @Test
    void aLoginHeldPastTheHoldTimeoutIsUnavailableAndReachesNoBackend() throws Exception {
        holds.hold(USER, Duration.ofMinutes(1), "local");

        LoginOutcome outcome = start().get(10, TimeUnit.SECONDS);

        assertThat(outcome).isInstanceOf(LoginOutcome.Unavailable.class);
        assertThat(((LoginOutcome.Unavailable) outcome).reason()).startsWith("held: held for");
        assertThat(backend.connectionCount()).isZero();
    }

    @Test
    void aLoginInFlightWhenAHoldBeginsLogsInAgainAfterIt() throws Exception {
        gate = new CountDownLatch(1);
        Future<LoginOutcome> login = start();
        Await.until("the backend has the LOGIN", Duration.ofSeconds(5), () -> !backend.received()
                .isEmpty());

        holds.hold(USER, Duration.ofMinutes(1), "local");
        gate.countDown();
        Await.until("the login waits on the hold", Duration.ofSeconds(5), () -> waiting() == 1);
        assertThat(login.isDone()).isFalse();
        gate = null;
        holds.release(USER, 0);

        assertThat(login.get(10, TimeUnit.SECONDS)).isInstanceOf(LoginOutcome.Success.class);
        assertThat(backend.connectionCount())
                .as("the first backend login was dropped")
                .isEqualTo(2);
        assertThat(backend.connections().get(0).closed()).isTrue();
    }
}
