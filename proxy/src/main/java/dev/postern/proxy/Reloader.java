package dev.postern.proxy;

import dev.postern.admin.ConfigReloadResult;
import dev.postern.config.ConfigException;
import dev.postern.config.ConfigLoader;
import dev.postern.config.ConfigProblem;
import dev.postern.config.ListenerConfig;
import dev.postern.config.PosternConfig;
import dev.postern.config.Protocol;
import dev.postern.config.RouteStore;
import dev.postern.config.TlsMode;
import dev.postern.proxy.auth.AuthSetup;
import dev.postern.proxy.auth.SharedFailures;
import dev.postern.proxy.dns.DnsClient;
import dev.postern.proxy.hold.Holds;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.reload.ConfigDiff;
import dev.postern.proxy.reload.LiveAuth;
import dev.postern.proxy.reload.LiveConfig;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.smtp.edge.SharedPassedClients;
import dev.postern.proxy.tls.CertificateInfo;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.tls.TlsSetupException;
import dev.postern.proxy.transport.ListenerSlot;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The full reload ({@code SIGHUP}, {@code POST /config/reload}): the file read and validated as a whole by the loader
 * of start-up, then, when it is valid, diffed against the configuration in force and applied for new sessions. Every
 * step that can fail (authentication, certificates, binds) runs before anything is swapped, and is undone when a later
 * one fails, so a reload either applies as a whole or changes nothing. Live sessions keep the listener settings, login
 * flow and TLS handlers they were accepted with. The file's pools and routes do not touch the live route store.
 *
 * <p>One reload at a time (signals and API calls may overlap); each runs on the caller's thread, never on an event
 * loop.
 */
final class Reloader {
    private static final Logger log = LoggerFactory.getLogger(Reloader.class);

    /** How long a replaced authentication stays open after the longest pre-auth phase that may still use it. */
    private static final Duration AUTH_LINGER = Duration.ofSeconds(30);

    private final Path file;
    private final LiveConfig live;
    private final LiveAuth auth;
    private final RouteStore store;
    private final SharedFailures sharedThrottle;
    private final SharedPassedClients passed;
    /** By listener name; read by other threads (readiness, addresses), written here and at start. */
    private final Map<String, ListenerSlot> slots;

    private volatile ProxyServices services;
    private DnsClient dns;
    /** Held logins (mailbox moves): one for the process, kept across reloads. */
    private final Holds holds;

    Reloader(
            Path file,
            LiveConfig live,
            LiveAuth auth,
            RouteStore store,
            ProxyServices services,
            SharedFailures sharedThrottle,
            DnsClient dns,
            SharedPassedClients passed,
            Holds holds,
            Map<String, ListenerSlot> slots) {
        this.holds = holds;
        this.file = file;
        this.live = live;
        this.auth = auth;
        this.store = store;
        this.services = services;
        this.sharedThrottle = sharedThrottle;
        this.dns = dns;
        this.passed = passed;
        this.slots = slots;
    }

    /** The services new sessions get (their TLS may have been loaded by a reload). */
    ProxyServices services() {
        return services;
    }

    /** The TLS of new sessions, or null when none is loaded. */
    TlsManager tls() {
        return services.tls();
    }

    /** The login flow of a listener's new sessions: its chain of providers, and the throttle unless it is off. */
    static LoginFlow loginFlow(ProxyServices services, AuthSetup auth, ListenerConfig l, Holds holds) {
        return new LoginFlow(services, auth.authenticator(l), l.throttled() ? auth.throttle() : null, holds);
    }

    /** Reads the file and applies it; see the class comment. Counted in the metrics by outcome. */
    synchronized ConfigReloadResult reload() {
        ConfigReloadResult result = readAndApply();
        services.metrics().configReload(result instanceof ConfigReloadResult.Rejected ? "rejected" : "applied");
        return result;
    }

    private ConfigReloadResult readAndApply() {
        String name = file == null ? "-" : file.toString();
        if (file == null) {
            return rejected(name, new ConfigProblem("", "this Postern was not started from a file"));
        }
        PosternConfig read;
        try {
            read = ConfigLoader.load(file);
        } catch (ConfigException e) {
            return rejected(name, e.problems());
        }
        List<ConfigProblem> problems = check(read);
        if (!problems.isEmpty()) {
            return rejected(name, problems);
        }
        PosternConfig current = live.get();
        ConfigDiff diff = ConfigDiff.between(current, read);
        PosternConfig next = keepFixed(current, read);
        return apply(name, current, next, diff);
    }

    private ConfigReloadResult apply(String name, PosternConfig current, PosternConfig next, ConfigDiff diff) {
        ProxyServices base = services;
        AuthSetup newAuth = null;
        if (diff.authChanged(current, next)) {
            try {
                newAuth = AuthSetup.create(
                        next.auth(),
                        next.listeners(),
                        base.pools().keySet(),
                        base.transport(),
                        base.metrics(),
                        sharedThrottle,
                        auth.get());
            } catch (AuthSetup.SetupException e) {
                return rejected(name, new ConfigProblem("auth", e.getMessage()));
            }
        }
        TlsManager tls = base.tls();
        TlsManager createdTls = null;
        List<CertificateInfo> certificatesBefore = tls == null ? List.of() : tls.certificates();
        try {
            if (tls == null && needsTls(next)) {
                createdTls = TlsManager.create(next.tls(), current.timeouts().tlsHandshake());
                tls = createdTls;
            } else if (tls != null) {
                // also re-reads the certificate files when the settings are the same, as SIGHUP always did
                tls.reload(next.tls());
            }
            if (tls != null) {
                for (ListenerConfig l : next.listeners()) {
                    tls.prepare(l.clientCertificates());
                }
            }
        } catch (TlsSetupException e) {
            undoTls(base.tls(), current);
            closeQuietly(newAuth);
            return rejected(name, new ConfigProblem("tls", e.getMessage()));
        }
        ProxyServices nextServices = createdTls == null ? base : base.withTls(createdTls);
        AuthSetup authFor = newAuth != null ? newAuth : auth.get();
        if (dns == null) {
            dns = Startup.dnsClient(next, nextServices.transport());
        }
        Map<String, ListenerSlot> bound = new LinkedHashMap<>();
        Map<String, ListenerSlot> freed = new LinkedHashMap<>();
        try {
            bindNew(next, nextServices, authFor, bound, freed);
        } catch (StartupException e) {
            bound.values().forEach(s -> s.close().awaitUninterruptibly());
            freed.forEach(this::takeBack);
            undoTls(base.tls(), current);
            closeQuietly(newAuth);
            int i = indexOf(next, e);
            return rejected(name, new ConfigProblem(i < 0 ? "listeners" : "listeners[" + i + "].bind", e.getMessage()));
        }
        // from here on nothing fails: swap for new sessions
        for (ListenerConfig l : next.listeners()) {
            if (!bound.containsKey(l.name())) {
                boolean probe = diff.changed().getOrDefault(l.name(), List.of()).contains("pool");
                slots.get(l.name())
                        .swap(Startup.initializer(
                                nextServices, l, loginFlow(nextServices, authFor, l, holds), dns, passed, probe));
            }
        }
        for (Map.Entry<String, ListenerSlot> e : bound.entrySet()) {
            ListenerSlot old = slots.put(e.getKey(), e.getValue());
            if (old != null) {
                old.close();
            }
        }
        for (String gone : diff.removed()) {
            ListenerSlot old = slots.remove(gone);
            if (old != null) {
                old.close();
                log.info(
                        "reload: listener {} stopped accepting; its {} open connections go on",
                        gone,
                        old.connections());
            }
        }
        services = nextServices;
        live.set(next);
        if (newAuth != null) {
            auth.replace(newAuth, maxPreAuth(current).plus(AUTH_LINGER));
        }
        if (createdTls != null) {
            nextServices.metrics().certificates(createdTls::certificates);
        }
        List<String> sections = new ArrayList<>(diff.sections());
        if (tls != null && !sections.contains(ConfigDiff.TLS) && !certificatesBefore.equals(tls.certificates())) {
            // the same settings, new files: the certificates served are new
            sections.add("certificates");
        }
        ConfigReloadResult.Applied applied = new ConfigReloadResult.Applied(
                name,
                diff.added().stream().map(ListenerConfig::name).toList(),
                diff.removed(),
                diff.changed().entrySet().stream()
                        .map(e -> new ConfigReloadResult.ListenerChange(e.getKey(), e.getValue()))
                        .toList(),
                sections,
                diff.needsRestart(),
                diff.routingSeedsChanged());
        logApplied(applied, bound);
        return applied;
    }

    /** Binds the new listeners and those whose address changed; on failure, what it bound is left in {@code bound}. */
    private void bindNew(
            PosternConfig next,
            ProxyServices nextServices,
            AuthSetup authFor,
            Map<String, ListenerSlot> bound,
            Map<String, ListenerSlot> freed)
            throws StartupException {
        for (ListenerConfig l : next.listeners()) {
            ListenerSlot slot = slots.get(l.name());
            if (slot != null && slot.listener().bind().equals(l.bind())) {
                continue;
            }
            LoginFlow flow = loginFlow(nextServices, authFor, l, holds);
            try {
                bound.put(l.name(), Startup.bind(nextServices, l, flow, dns, passed));
            } catch (StartupException e) {
                if (slot == null) {
                    throw e;
                }
                // the new address may overlap the old one (0.0.0.0:993 to [::]:993): free it, and take it back on
                // failure
                slot.close().awaitUninterruptibly();
                freed.put(l.name(), slot);
                bound.put(l.name(), Startup.bind(nextServices, l, flow, dns, passed));
            }
        }
    }

    /** Binds a listener's old address again, with its old settings, after a failed reload freed it. */
    private void takeBack(String name, ListenerSlot slot) {
        try {
            slots.put(name, slot.reopen(services.transport()));
        } catch (ListenerSlot.BindFailure lost) {
            log.error(
                    "reload: listener {} could not take back {}: {}",
                    name,
                    slot.address(),
                    Startup.osMessage(lost.getCause()));
        }
    }

    /** Problems the loader cannot see: what this build and the live route store allow. */
    private List<ConfigProblem> check(PosternConfig next) {
        List<ConfigProblem> problems = new ArrayList<>();
        for (int i = 0; i < next.listeners().size(); i++) {
            ListenerConfig l = next.listeners().get(i);
            if (l.protocol() != Protocol.TCP
                    && Frontends.forProtocol(l.protocol()).isEmpty()) {
                problems.add(new ConfigProblem(
                        "listeners[" + i + "].protocol",
                        l.protocol().configName() + " is not supported by this build (use tcp)"));
            }
            Optional<String> pool = l.pool();
            if (pool.isPresent() && store.current().pool(pool.get()).isEmpty()) {
                problems.add(new ConfigProblem(
                        "listeners[" + i + "].pool",
                        "the live route store has no pool '" + pool.get() + "' (a reload does not apply the file's"
                                + " pools: add it through the admin API first)"));
            }
        }
        return problems;
    }

    /** {@code read}, with what cannot change live (and the routing seeds) as they are in force. */
    private static PosternConfig keepFixed(PosternConfig current, PosternConfig read) {
        // the hold settings too: the hold table was sized and timed at start (a reload used to put the defaults in)
        return new PosternConfig(
                read.listeners(),
                read.tls(),
                current.pools(),
                read.timeouts(),
                read.limits(),
                current.admin(),
                read.auth(),
                current.routes(),
                current.routeStore(),
                current.dns(),
                current.cluster(),
                read.source(),
                current.holds(),
                current.transport());
    }

    private boolean needsTls(PosternConfig next) {
        return next.listeners().stream().anyMatch(l -> l.tls() != TlsMode.NONE)
                || store.current().pools().stream()
                        .flatMap(p -> p.backends().stream())
                        .anyMatch(b -> b.tls() != TlsMode.NONE);
    }

    private static void undoTls(TlsManager tls, PosternConfig current) {
        if (tls == null) {
            return;
        }
        try {
            tls.reload(current.tls());
        } catch (TlsSetupException e) {
            // the files changed under us: what the failed reload swapped in stays, and says so
            log.warn("reload: could not restore the previous TLS settings: {}", e.getMessage());
        }
    }

    private static Duration maxPreAuth(PosternConfig config) {
        return config.listeners().stream()
                .map(l -> l.timeouts().preAuth())
                .max(Duration::compareTo)
                .orElse(config.timeouts().preAuth());
    }

    private static int indexOf(PosternConfig next, StartupException e) {
        for (int i = 0; i < next.listeners().size(); i++) {
            if (e.getMessage().startsWith("listener '" + next.listeners().get(i).name() + "'")) {
                return i;
            }
        }
        return -1;
    }

    private static void closeQuietly(AuthSetup setup) {
        if (setup != null) {
            setup.close();
        }
    }

    private static ConfigReloadResult rejected(String file, ConfigProblem problem) {
        return rejected(file, List.of(problem));
    }

    private static ConfigReloadResult rejected(String file, List<ConfigProblem> problems) {
        log.error("reload of {} refused, the running configuration is kept: {} problem(s)", file, problems.size());
        for (ConfigProblem p : problems) {
            log.error("  {}", p);
        }
        return new ConfigReloadResult.Rejected(file, problems);
    }

    private static void logApplied(ConfigReloadResult.Applied a, Map<String, ListenerSlot> bound) {
        if (!a.anyChange() && a.needsRestart().isEmpty()) {
            log.info("reload of {}: nothing changed", a.file());
        } else {
            log.info(
                    "reload of {}: listeners added {}, removed {}, changed {}; settings changed {}",
                    a.file(),
                    a.listenersAdded(),
                    a.listenersRemoved(),
                    a.listenersChanged().stream().map(c -> c.name() + c.what()).toList(),
                    a.changed());
        }
        bound.forEach((name, slot) -> log.info("reload: listening: {} on {}", name, slot.address()));
        if (!a.needsRestart().isEmpty()) {
            log.warn("reload: changed, but needs a restart (left as it was): {}", a.needsRestart());
        }
        if (a.routingSeedsIgnored()) {
            log.info("reload: the file's pools and routes are not applied; the live route store is kept");
        }
    }
}
