package dev.postern.admin;

import dev.postern.config.Backend;
import dev.postern.config.HealthCheckConfig;
import dev.postern.config.Pool;
import dev.postern.config.Secret;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Documents show secrets as {@code "***"}; written back unchanged, {@code "***"} keeps the secret the backend of the
 * same id has now. So a client can read a pool, change its weight and write it back without ever holding the
 * master password.
 */
final class Secrets {
    static final String REDACTED = "***";

    private Secrets() {}

    /**
     * {@code pool} with every {@code "***"} replaced by the current secret of {@code old}'s backend of the same id.
     * Aborts the change with 400 when there is no secret to keep.
     *
     * @param path the pool's path in the request document ("" for the document itself)
     */
    static Pool restore(Pool pool, Optional<Pool> old, String path) {
        List<Backend> backends = new ArrayList<>();
        for (int i = 0; i < pool.backends().size(); i++) {
            Backend b = pool.backends().get(i);
            Optional<Backend> previous = old.flatMap(p -> p.backend(b.id()));
            backends.add(restore(b, previous, (path.isEmpty() ? "" : path + ".") + "backends[" + i + "]"));
        }
        return pool.withBackends(backends).withHealthCheck(restore(pool.healthCheck(), old, path));
    }

    /** Health-check settings with a {@code "***"} probe password replaced by {@code old}'s. */
    static HealthCheckConfig restore(HealthCheckConfig health, Optional<Pool> old, String path) {
        Optional<HealthCheckConfig.ProbeLogin> login = health.login();
        if (login.isEmpty() || !login.get().password().reveal().equals(REDACTED)) {
            return health;
        }
        Optional<Secret> kept = old.flatMap(p -> p.healthCheck().login()).map(HealthCheckConfig.ProbeLogin::password);
        if (kept.isEmpty()) {
            throw RoutingChanges.abort(ApiException.invalidBody(
                    (path.isEmpty() ? "" : path + ".") + "health-check.password",
                    "'***' keeps the current probe password, but the pool has none"));
        }
        return health.withMode(
                health.mode(),
                Optional.of(new HealthCheckConfig.ProbeLogin(login.get().user(), kept.get())));
    }

    /** {@code backend} with a {@code "***"} master password replaced by {@code old}'s. */
    static Backend restore(Backend backend, Optional<Backend> old, String path) {
        if (backend.master().isEmpty()
                || !backend.master().get().password().reveal().equals(REDACTED)) {
            return backend;
        }
        Optional<Secret> kept = old.flatMap(Backend::master).map(Backend.MasterLogin::password);
        if (kept.isEmpty()) {
            throw RoutingChanges.abort(ApiException.invalidBody(
                    (path.isEmpty() ? "" : path + ".") + "master-password",
                    "'***' keeps the current master password, but backend '" + backend.id() + "' has none"));
        }
        Backend.MasterLogin master =
                new Backend.MasterLogin(backend.master().get().user(), kept.get());
        return new Backend(
                backend.id(),
                backend.host(),
                backend.port(),
                backend.ports(),
                backend.weight(),
                backend.state(),
                backend.maxSessions(),
                backend.tls(),
                backend.tlsVerify(),
                backend.identity(),
                Optional.of(master));
    }
}
