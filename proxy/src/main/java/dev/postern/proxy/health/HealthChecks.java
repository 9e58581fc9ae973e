package dev.postern.proxy.health;

import dev.postern.config.HealthCheckConfig;
import dev.postern.proxy.login.BackendDialogue;
import dev.postern.proxy.routing.HealthCheck;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.transport.Transport;
import java.util.function.Function;

/** The check of each {@link HealthCheckConfig.Mode}, for a {@link dev.postern.proxy.routing.HealthChecker}. */
public final class HealthChecks {
    private HealthChecks() {}

    /**
     * @param tls client TLS towards backends; null when no backend uses TLS
     * @param dialogues the backend login dialogue of a protocol, for login checks (null: that protocol has none)
     */
    public static Function<HealthCheckConfig.Mode, HealthCheck> of(
            Transport transport, TlsManager tls, Function<dev.postern.config.Protocol, BackendDialogue> dialogues) {
        HealthCheck connect = new ConnectCheck(transport);
        HealthCheck greeting = new GreetingCheck(transport, tls);
        HealthCheck login = new LoginCheck(transport, dialogues);
        return mode -> switch (mode) {
            case CONNECT -> connect;
            case GREETING -> greeting;
            case LOGIN -> login;
        };
    }

    /** Connect and greeting checks without TLS towards backends, and no login dialogues (tests and tools). */
    public static Function<HealthCheckConfig.Mode, HealthCheck> basic(Transport transport) {
        return of(transport, null, p -> null);
    }
}
