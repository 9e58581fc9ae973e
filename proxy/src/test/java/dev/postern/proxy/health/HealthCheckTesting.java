package dev.postern.proxy.health;

import dev.postern.config.Backend;
import dev.postern.config.HealthCheckConfig;
import dev.postern.config.Protocol;
import dev.postern.config.Secret;
import dev.postern.config.TlsMode;
import dev.postern.proxy.imap.ImapBackendDialogue;
import dev.postern.proxy.login.BackendDialogue;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.pop3.Pop3BackendDialogue;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.routing.CheckFailure;
import dev.postern.proxy.routing.HealthCheck;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.smtp.submission.SubmissionFrontend;
import dev.postern.proxy.transport.Transport;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** What the check tests share: a transport, the login dialogues over no pools, and backends on loopback. */
final class HealthCheckTesting {
    static final String PROBE_PASSWORD = "probe-pw-7f3a";
    static final HealthCheckConfig.ProbeLogin PROBE =
            new HealthCheckConfig.ProbeLogin("probe@example.test", Secret.of(PROBE_PASSWORD));

    private HealthCheckTesting() {}

    static Function<Protocol, BackendDialogue> dialogues(Transport transport) {
        ProxyServices services = new ProxyServices(
                transport,
                null,
                null,
                Map.of(),
                new SessionRegistry(Metrics.NOOP),
                new BackendCapabilities(),
                Metrics.NOOP);
        return protocol -> switch (protocol) {
            case IMAP -> new ImapBackendDialogue(services);
            case POP3 -> new Pop3BackendDialogue(services);
            case SMTP -> SubmissionFrontend.backendDialogue(services, "postern.test");
            default -> null;
        };
    }

    static Backend backend(int port) {
        return backend(port, Backend.Identity.NONE, Optional.empty());
    }

    static Backend backend(int port, Backend.Identity identity, Optional<Backend.MasterLogin> master) {
        return new Backend(
                "b1", "127.0.0.1", port, Map.of(), 1, Backend.State.ACTIVE, 0, TlsMode.NONE, true, identity, master);
    }

    static HealthCheck.Target target(Backend backend, Protocol protocol) {
        return new HealthCheck.Target("p", backend, protocol, Duration.ofSeconds(2), Optional.of(PROBE));
    }

    static HealthCheck.Target target(Backend backend, Protocol protocol, Duration timeout) {
        return new HealthCheck.Target("p", backend, protocol, timeout, Optional.of(PROBE));
    }

    /** Runs one check and answers null when it passed, else its failure. */
    static CheckFailure once(HealthCheck check, HealthCheck.Target target, Transport transport) throws Exception {
        EventLoop loop = transport.workerGroup().next();
        Future<Void> f = check.run(target, loop);
        if (!f.await(10, TimeUnit.SECONDS)) {
            throw new AssertionError("the check did not end");
        }
        if (f.isSuccess()) {
            return null;
        }
        if (f.cause() instanceof CheckFailure c) {
            return c;
        }
        throw new AssertionError("not a check failure", f.cause());
    }

    /** Records the check failures counted and the health changes. */
    static final class RecordingMetrics implements Metrics {
        final List<String> failures = new CopyOnWriteArrayList<>();
        final List<String> changes = new CopyOnWriteArrayList<>();

        @Override
        public void backendCheckFailed(String pool, String backend, String reason) {
            failures.add(reason);
        }

        @Override
        public void backendHealth(String pool, String backend, boolean healthy) {
            changes.add(healthy ? "up" : "down");
        }
    }
}
