package dev.postern.proxy.routing;

import dev.postern.config.Backend;
import dev.postern.config.HealthCheckConfig;
import dev.postern.config.Protocol;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.Optional;

/** One way of checking a backend; an implementation per {@link HealthCheckConfig.Mode}. */
public interface HealthCheck {

    /**
     * What one check is about.
     *
     * @param pool the backend's pool
     * @param backend the backend's configuration (TLS, identity, master user as for real sessions)
     * @param protocol what the backend speaks on the checked port
     * @param timeout for the whole check
     * @param login the probe user (login mode)
     */
    record Target(
            String pool,
            Backend backend,
            Protocol protocol,
            Duration timeout,
            Optional<HealthCheckConfig.ProbeLogin> login) {}

    /**
     * Runs one check on {@code loop}; the future succeeds when the backend passed and fails with a {@link
     * CheckFailure} when not. The check's connection is closed when it ends.
     */
    Future<Void> run(Target target, EventLoop loop);
}
