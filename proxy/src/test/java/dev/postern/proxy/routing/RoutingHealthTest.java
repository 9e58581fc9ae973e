package dev.postern.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Backend;
import dev.postern.config.HealthCheckConfig;
import dev.postern.config.LocalRouteStore;
import dev.postern.config.Pool;
import dev.postern.config.Protocol;
import dev.postern.config.Routes;
import dev.postern.config.RoutingTable;
import dev.postern.config.Secret;
import dev.postern.config.TlsMode;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.Await;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How the routing runs a pool's health checks as its settings change, and what passive observations count. */
class RoutingHealthTest {
    private final Transport transport = Transport.create(1, true);
    private final List<HealthCheckConfig.Mode> modesRun = new CopyOnWriteArrayList<>();
    /** Checks that never end unless {@link #passing} is set: only passive observations count until then. */
    private volatile boolean passing;

    private final HealthChecker checker = new HealthChecker(transport, Metrics.NOOP, (b, up) -> {}, mode -> {
        modesRun.add(mode);
        return (HealthCheck) (target, loop) -> passing ? loop.newSucceededFuture(null) : loop.newPromise();
    });

    @AfterEach
    void stop() {
        checker.close();
        transport.close();
    }

    private static HealthCheckConfig settings(HealthCheckConfig.Mode mode, int fall) {
        HealthCheckConfig h = new HealthCheckConfig(
                true, Optional.of(Protocol.IMAP), Duration.ofMillis(20), Duration.ofSeconds(1), 1, fall);
        return mode == HealthCheckConfig.Mode.LOGIN
                ? h.withMode(mode, Optional.of(new HealthCheckConfig.ProbeLogin("probe", Secret.of("pw"))))
                : h.withMode(mode, Optional.empty());
    }

    private static RoutingTable table(HealthCheckConfig health) {
        Backend b = new Backend(
                "b1",
                "127.0.0.1",
                1,
                Map.of(),
                1,
                Backend.State.ACTIVE,
                0,
                TlsMode.NONE,
                true,
                Backend.Identity.NONE,
                Optional.empty());
        return new RoutingTable(0, List.of(new Pool("p", Pool.Balancer.ROUND_ROBIN, List.of(b), health)), Routes.NONE);
    }

    private Routing follow(LocalRouteStore store) {
        checker.start();
        return Routing.follow(store, checker, p -> Protocol.IMAP, null, null);
    }

    @Test
    void inLoginModeAClientsAnsweredLoginDoesNotResetTheFailures() {
        Routing routing = follow(LocalRouteStore.inMemory(table(settings(HealthCheckConfig.Mode.LOGIN, 2))));
        BackendRuntime b = routing.backends().iterator().next();

        routing.passive(b, false, "connect failed");
        routing.passive(b, true, null); // a client's login the backend refused: it "answered"
        routing.passive(b, false, "connect failed");

        assertThat(b.healthy()).isFalse();
        assertThat(b.lastFailure().orElseThrow().reason()).isEqualTo("live traffic: connect failed");
    }

    @Test
    void inGreetingModeAnAnsweredLoginStillCountsAsASuccess() {
        Routing routing = follow(LocalRouteStore.inMemory(table(settings(HealthCheckConfig.Mode.GREETING, 2))));
        BackendRuntime b = routing.backends().iterator().next();

        routing.passive(b, false, "connect failed");
        routing.passive(b, true, null);
        routing.passive(b, false, "connect failed");

        assertThat(b.healthy()).isTrue();
    }

    @Test
    void aChangedModeAppliesFromTheNextCheck() throws Exception {
        passing = true;
        LocalRouteStore store = LocalRouteStore.inMemory(table(settings(HealthCheckConfig.Mode.GREETING, 2)));
        follow(store);
        Await.until(
                "a greeting check ran",
                Duration.ofSeconds(5),
                () -> modesRun.contains(HealthCheckConfig.Mode.GREETING));

        store.update(-1, t -> table(settings(HealthCheckConfig.Mode.CONNECT, 2)));

        Await.until(
                "a connect check ran", Duration.ofSeconds(5), () -> modesRun.contains(HealthCheckConfig.Mode.CONNECT));
    }

    @Test
    void turningChecksOffBringsADownBackendBack() throws Exception {
        LocalRouteStore store = LocalRouteStore.inMemory(table(settings(HealthCheckConfig.Mode.GREETING, 1)));
        Routing routing = follow(store);
        BackendRuntime b = routing.backends().iterator().next();
        routing.passive(b, false, "connect failed");
        assertThat(b.healthy()).isFalse();

        HealthCheckConfig off = new HealthCheckConfig(
                false, Optional.of(Protocol.IMAP), Duration.ofMillis(20), Duration.ofSeconds(1), 1, 1);
        store.update(-1, t -> table(off));

        assertThat(b.healthy()).isTrue();
        assertThat(checker.watches(b)).isFalse();
    }
}
