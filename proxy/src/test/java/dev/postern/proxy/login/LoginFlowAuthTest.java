package dev.postern.proxy.login;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.AuthProviderConfig;
import dev.postern.config.CacheConfig;
import dev.postern.config.ConfigLoader;
import dev.postern.config.ListenerConfig;
import dev.postern.config.Pool;
import dev.postern.config.PosternConfig;
import dev.postern.config.Protocol;
import dev.postern.config.ThrottleConfig;
import dev.postern.proxy.auth.AuthCache;
import dev.postern.proxy.auth.AuthChain;
import dev.postern.proxy.auth.AuthProvider;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.auth.AuthResult;
import dev.postern.proxy.auth.Authenticator;
import dev.postern.proxy.auth.HttpAuthProvider;
import dev.postern.proxy.auth.LoginThrottle;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.routing.BackendConnector;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.testing.NginxAuthService;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.FakeLineBackend;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.resolver.DefaultAddressResolverGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link LoginFlow} with authentication providers, the cache and the throttle, against in-JVM fake backends over real
 * sockets (the protocol front ends are tested with the real Dovecot elsewhere).
 */
class LoginFlowAuthTest {
    /** What {@link FakeDialogue} sends for alice with her password. */
    private static final String ALICE_LOGIN = "a LOGIN alice pw";

    private Transport transport;
    private FakeLineBackend backendA;
    private FakeLineBackend backendB;
    private Channel acceptor;
    private ProxyServices services;
    private ListenerConfig listener;

    @BeforeEach
    void setUp() throws Exception {
        transport = Transport.create(1, true);
        backendA = loginBackend();
        backendB = loginBackend();
        PosternConfig config = ConfigLoader.parse(
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:1", pool: a}
                pools:
                  - {name: a, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: b, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(backendA.port(), backendB.port()),
                Path.of("."));
        listener = config.listeners().get(0);
        Map<String, PoolRuntime> pools = new HashMap<>();
        for (Pool p : config.pools()) {
            pools.put(p.name(), new PoolRuntime(p));
        }
        services = new ProxyServices(
                transport,
                null,
                new BackendConnector(transport, Metrics.NOOP),
                Map.copyOf(pools),
                new SessionRegistry(Metrics.NOOP),
                new BackendCapabilities(),
                Metrics.NOOP);
        // the other end of the client connections sessions are made of
        acceptor = new ServerBootstrap()
                .group(transport.workerGroup())
                .channel(
                        transport.isEpoll()
                                ? io.netty.channel.epoll.EpollServerSocketChannel.class
                                : io.netty.channel.socket.nio.NioServerSocketChannel.class)
                .childHandler(new io.netty.channel.ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // nothing: the server side of client connections only has to exist
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .sync()
                .channel();
    }

    @AfterEach
    void tearDown() {
        acceptor.close();
        backendA.close();
        backendB.close();
        transport.close();
    }

    /**
     * A mail backend reduced to a login: greets with {@code * OK fake} and answers {@code a LOGIN user password}
     * with {@code a OK} for alice's password, {@code a NO} for anything else.
     */
    private static FakeLineBackend loginBackend() {
        return FakeLineBackend.builder()
                .tagged()
                .greeting("* OK fake")
                .on("LOGIN", (c, line) -> {
                    boolean ok = line.strip().equals(ALICE_LOGIN);
                    c.send(c.tagOf(line) + (ok ? " OK logged in" : " NO wrong"));
                })
                .start();
    }

    /** The logins {@code backend} accepted. */
    private static long accepted(FakeLineBackend backend) {
        return backend.received().stream()
                .filter(line -> line.strip().equals(ALICE_LOGIN))
                .count();
    }

    /** A new client connection with its session. */
    private Session session() throws Exception {
        Channel client = transport
                .backendBootstrap(
                        transport.workerGroup().next(), Duration.ofSeconds(5), new WriteBufferWaterMark(8192, 16384))
                .handler(new ChannelInboundHandlerAdapter())
                .connect(acceptor.localAddress())
                .sync()
                .channel();
        return client.eventLoop()
                .submit(() -> services.sessions().open(listener, client))
                .get(5, TimeUnit.SECONDS);
    }

    private static AuthRequest request(Session s, String user, String password) {
        return new AuthRequest(
                Credentials.password(SaslMechanism.LOGIN, user, password),
                Protocol.IMAP,
                "imap",
                new InetSocketAddress("192.0.2.44", 40000),
                new InetSocketAddress("127.0.0.1", 143),
                null,
                null,
                1,
                s.id(),
                null);
    }

    /** Runs one login to its end; closes the session afterwards. */
    private LoginOutcome login(LoginFlow flow, String user, String password) throws Exception {
        Session s = session();
        try {
            return s.client()
                    .eventLoop()
                    .submit(() -> flow.login(s, request(s, user, password), new FakeDialogue()))
                    .get(5, TimeUnit.SECONDS)
                    .get(30, TimeUnit.SECONDS);
        } finally {
            s.client().close().sync();
        }
    }

    /** A provider that accepts alice/pw with a fixed answer and counts its calls. */
    private static final class CountingProvider implements AuthProvider {
        final AtomicInteger calls = new AtomicInteger();
        final AuthResult accepted;

        CountingProvider(AuthResult accepted) {
            this.accepted = accepted;
        }

        @Override
        public String name() {
            return "counting";
        }

        @Override
        public CompletionStage<Optional<AuthResult>> authenticate(AuthRequest request) {
            calls.incrementAndGet();
            boolean ok = request.credentials().secret().equals("pw");
            return CompletableFuture.completedFuture(
                    Optional.of(ok ? accepted : new AuthResult.Rejected("wrong", false, Duration.ZERO)));
        }
    }

    @Test
    void fiftyLoginsOfOneUserMakeOneCallToASlowAuthServiceWhileTheCacheIsWarm() throws Exception {
        try (var service = NginxAuthService.start(Duration.ofMillis(20))) {
            service.user("alice", "pw").route("127.0.0.1", backendB.port());
            HttpAuthProvider http = new HttpAuthProvider(
                    new AuthProviderConfig.Http(
                            "directory", URI.create(service.url()), Duration.ofSeconds(5), Map.of(), true, 4),
                    transport.workerGroup(),
                    transport.socketChannelType(),
                    DefaultAddressResolverGroup.INSTANCE,
                    null);
            AuthCache cache = new AuthCache(CacheConfig.DEFAULTS, Ticker.systemTicker(), Runnable::run, Metrics.NOOP);
            LoginFlow flow = new LoginFlow(services, new AuthChain(List.of(http), false, cache, Metrics.NOOP));

            for (int i = 0; i < 50; i++) {
                assertThat(login(flow, "alice", "pw")).isInstanceOf(LoginOutcome.Success.class);
            }

            assertThat(service.calls())
                    .as("one auth service call for 50 logins")
                    .isEqualTo(1);
            assertThat(accepted(backendB))
                    .as("Auth-Server/Auth-Port chose backend B")
                    .isEqualTo(50);
            assertThat(backendA.connectionCount()).isZero();
            http.close();
        }
    }

    @Test
    void aRouteToAPoolGoesToThatPoolAndBackendCredentialsAreUsed() throws Exception {
        CountingProvider provider = new CountingProvider(new AuthResult.Accepted(
                "alice",
                Optional.of(new AuthResult.RouteHint("b", null, 0)),
                Optional.of(Credentials.password(SaslMechanism.LOGIN, "alice", "pw"))));
        LoginFlow flow = new LoginFlow(services, new AuthChain(List.of(provider), false, null, Metrics.NOOP));

        // the client's own secret is the provider's business; the backend gets the answer's credentials
        assertThat(login(flow, "alice@alias.test", "pw")).isInstanceOf(LoginOutcome.Success.class);

        assertThat(accepted(backendB)).isEqualTo(1);
        assertThat(backendA.connectionCount()).isZero();
    }

    @Test
    void aRefusalNeverReachesABackend() throws Exception {
        CountingProvider provider =
                new CountingProvider(new AuthResult.Accepted("alice", Optional.empty(), Optional.empty()));
        LoginFlow flow = new LoginFlow(services, new AuthChain(List.of(provider), false, null, Metrics.NOOP));

        assertThat(login(flow, "alice", "wrong")).isInstanceOf(LoginOutcome.Failure.class);

        assertThat(backendA.connectionCount()).isZero();
    }

    @Test
    void aFailingProviderIsATemporaryError() throws Exception {
        AuthProvider down = new AuthProvider() {
            @Override
            public String name() {
                return "down";
            }

            @Override
            public CompletionStage<Optional<AuthResult>> authenticate(AuthRequest request) {
                return CompletableFuture.failedFuture(new java.io.IOException("connection refused"));
            }
        };
        LoginFlow flow = new LoginFlow(services, new AuthChain(List.of(down), false, null, Metrics.NOOP));

        assertThat(login(flow, "alice", "pw")).isInstanceOf(LoginOutcome.Unavailable.class);
        assertThat(backendA.connectionCount()).isZero();
    }

    private static LoginThrottle throttle(int perPair, Duration... delays) {
        return new LoginThrottle(
                new ThrottleConfig(
                        Duration.ofMinutes(15),
                        64,
                        100,
                        100,
                        perPair,
                        Duration.ofMinutes(15),
                        List.of(delays),
                        List.of(),
                        1000),
                Ticker.systemTicker(),
                Runnable::run);
    }

    @Test
    void theBackendsRefusalsAreThrottledAndABlockedClientReachesNobody() throws Exception {
        LoginFlow flow = new LoginFlow(services, Authenticator.BACKEND, throttle(2, Duration.ZERO));

        assertThat(login(flow, "alice", "guess1")).isInstanceOf(LoginOutcome.Failure.class);
        assertThat(login(flow, "alice", "guess2")).isInstanceOf(LoginOutcome.Failure.class);
        int connections = backendA.connectionCount();

        LoginOutcome refused = login(flow, "alice", "pw");

        assertThat(refused).isInstanceOf(LoginOutcome.Unavailable.class);
        assertThat(((LoginOutcome.Unavailable) refused).reason()).contains("throttled");
        assertThat(backendA.connectionCount())
                .as("no backend call while blocked")
                .isEqualTo(connections);
    }

    @Test
    void eachFailureIsAnsweredAfterAGrowingDelay() throws Exception {
        LoginFlow flow = new LoginFlow(
                services, Authenticator.BACKEND, throttle(100, Duration.ofMillis(200), Duration.ofMillis(600)));

        long t0 = System.nanoTime();
        login(flow, "alice", "guess1");
        long first = System.nanoTime() - t0;
        long t1 = System.nanoTime();
        login(flow, "alice", "guess2");
        long second = System.nanoTime() - t1;
        long t2 = System.nanoTime();
        assertThat(login(flow, "alice", "pw")).isInstanceOf(LoginOutcome.Success.class);
        long success = System.nanoTime() - t2;

        assertThat(Duration.ofNanos(first)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        assertThat(Duration.ofNanos(second)).isGreaterThanOrEqualTo(Duration.ofMillis(600));
        assertThat(Duration.ofNanos(success)).as("a success is not delayed").isLessThan(Duration.ofMillis(600));
    }
}
