package dev.postern.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.postern.config.AdminConfig;
import dev.postern.config.Backend;
import dev.postern.config.ConfigException;
import dev.postern.config.HostPort;
import dev.postern.config.LocalRouteStore;
import dev.postern.config.Pool;
import dev.postern.config.RouteStore;
import dev.postern.config.Routes;
import dev.postern.config.RoutingTable;
import dev.postern.config.Secret;
import dev.postern.config.TlsMode;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * An admin server on a free loopback port over a route store (in memory, or in a file), with a fake proxy, and an
 * HTTP client to talk to it.
 */
final class AdminFixture implements AutoCloseable {
    static final String OPS_TOKEN = "ops-token-0123456789abcdef";
    static final String VIEWER_TOKEN = "viewer-token-0123456789abcdef";
    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    static final List<AdminConfig.Token> TOKENS = List.of(
            new AdminConfig.Token("ops", Secret.of(OPS_TOKEN), AdminConfig.Access.READ_WRITE),
            new AdminConfig.Token("viewer", Secret.of(VIEWER_TOKEN), AdminConfig.Access.READ_ONLY));

    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    final FakeProxyControl proxy = new FakeProxyControl();
    final PrometheusRegistry registry = new PrometheusRegistry();
    final RouteStore store;
    final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final AdminSettings settings;
    private final Supplier<? extends ChannelHandler> tls;
    AdminServer server;

    private AdminFixture(RouteStore store, AdminSettings settings) {
        this(store, settings, null);
    }

    private AdminFixture(RouteStore store, AdminSettings settings, Supplier<? extends ChannelHandler> tls) {
        this.store = store;
        this.settings = settings;
        this.tls = tls;
        this.server = startServer();
    }

    /** Serving HTTPS with the handlers {@code tls} makes. */
    static AdminFixture startTls(Supplier<? extends ChannelHandler> tls) {
        return new AdminFixture(
                LocalRouteStore.inMemory(seed()), AdminSettings.of(new HostPort("127.0.0.1", 0), TOKENS), tls);
    }

    /** Every token, an in-memory store with {@link #seed()}. */
    static AdminFixture start() {
        return start(UnaryOperator.identity());
    }

    static AdminFixture start(UnaryOperator<AdminSettings> settings) {
        return new AdminFixture(
                LocalRouteStore.inMemory(seed()),
                settings.apply(AdminSettings.of(new HostPort("127.0.0.1", 0), TOKENS)));
    }

    /** Over a store of the test's own. */
    static AdminFixture startWithStore(RouteStore store) {
        return new AdminFixture(store, AdminSettings.of(new HostPort("127.0.0.1", 0), TOKENS));
    }

    /** A store kept in {@code file} (seeded when the file does not exist). */
    static AdminFixture startWithStoreFile(Path file) {
        try {
            return new AdminFixture(
                    LocalRouteStore.open(file, seed()), AdminSettings.of(new HostPort("127.0.0.1", 0), TOKENS));
        } catch (ConfigException e) {
            throw new AssertionError(e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private AdminServer startServer() {
        try {
            return AdminServer.start(
                    settings,
                    store,
                    proxy,
                    registry,
                    tls,
                    group,
                    NioServerSocketChannel.class,
                    Clock.fixed(NOW, ZoneOffset.UTC));
        } catch (AdminStartException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    /**
     * Two pools: dovecot (d1 with a master user, d2) and postfix (p1); a user route, a domain route and a default, all
     * to dovecot.
     */
    static RoutingTable seed() {
        Backend d1 = backend(
                "d1", "10.0.0.1", 143, Optional.of(new Backend.MasterLogin("proxy-master", Secret.of("master-pw"))));
        Backend d2 = backend("d2", "10.0.0.2", 143, Optional.empty());
        Backend p1 = backend("p1", "10.0.0.3", 25, Optional.empty());
        return new RoutingTable(
                1,
                List.of(
                        new Pool("dovecot", Pool.Balancer.CONSISTENT_HASH, List.of(d1, d2)),
                        new Pool("postfix", Pool.Balancer.ROUND_ROBIN, List.of(p1))),
                new Routes(
                        Map.of("vip@example.com", "dovecot"),
                        Map.of("example.com", "dovecot"),
                        Optional.of("dovecot")));
    }

    static Backend backend(String id, String host, int port, Optional<Backend.MasterLogin> master) {
        return new Backend(
                id,
                host,
                port,
                Map.of(),
                1,
                Backend.State.ACTIVE,
                0,
                TlsMode.NONE,
                true,
                Backend.Identity.NONE,
                master);
    }

    URI uri(String pathAndQuery) {
        return URI.create((tls == null ? "http" : "https") + "://127.0.0.1:"
                + server.address().getPort() + pathAndQuery);
    }

    /** A GET with the read-write token. */
    Reply get(String path) {
        return send("GET", path, OPS_TOKEN, null);
    }

    /** A write with the read-write token. */
    Reply send(String method, String path, String json) {
        return send(method, path, OPS_TOKEN, json);
    }

    Reply send(String method, String path, String token, String json, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        b.method(
                method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.headers().map(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Stops the server and starts a new one on the same store (a restart of the API, not of the store). */
    void restartServer() {
        server.close();
        server = startServer();
    }

    @Override
    public void close() {
        server.close();
        group.shutdownGracefully(0, 5, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /** An HTTP answer. */
    record Reply(int status, Map<String, List<String>> headers, String body) {
        JsonNode json() {
            try {
                return Json.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }

        String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }
}
