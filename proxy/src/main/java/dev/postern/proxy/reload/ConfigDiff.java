package dev.postern.proxy.reload;

import dev.postern.config.ListenerConfig;
import dev.postern.config.PosternConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * What a new configuration changes against the one in force, computed from the two values alone: which listeners
 * come, go or change (and in what), which global sections new sessions get anew, which changes need a restart, and
 * whether the file's routing seeds differ from what it seeded before (they are not applied: the live route store is
 * the truth).
 *
 * @param added the listeners of {@code next} that {@code current} does not have, in file order
 * @param removed the names of the listeners {@code next} no longer has
 * @param changed per listener in both whose settings differ, the names of the settings that differ
 * @param sections the global sections that differ: {@code auth} (providers), {@code cache}, {@code throttle}, {@code
 *     limits}, {@code timeouts}, {@code tls}
 * @param needsRestart the settings that differ but cannot change while running
 * @param routingSeedsChanged the file's {@code pools} or {@code routes} differ from the previous file's
 */
public record ConfigDiff(
        List<ListenerConfig> added,
        List<String> removed,
        Map<String, List<String>> changed,
        List<String> sections,
        List<String> needsRestart,
        boolean routingSeedsChanged) {

    /** The global sections, by their names in the answer. */
    public static final String AUTH = "auth";

    public static final String CACHE = "cache";
    public static final String THROTTLE = "throttle";
    public static final String LIMITS = "limits";
    public static final String TIMEOUTS = "timeouts";
    public static final String TLS = "tls";

    public ConfigDiff {
        added = List.copyOf(added);
        removed = List.copyOf(removed);
        changed = Collections.unmodifiableMap(new LinkedHashMap<>(changed));
        sections = List.copyOf(sections);
        needsRestart = List.copyOf(needsRestart);
    }

    /** What {@code next} changes against {@code current}. */
    public static ConfigDiff between(PosternConfig current, PosternConfig next) {
        Objects.requireNonNull(current, "current");
        Objects.requireNonNull(next, "next");
        List<ListenerConfig> added = new ArrayList<>();
        Map<String, List<String>> changed = new LinkedHashMap<>();
        for (ListenerConfig l : next.listeners()) {
            var before = current.listener(l.name());
            if (before.isEmpty()) {
                added.add(l);
            } else {
                List<String> what = listenerChanges(before.get(), l);
                if (!what.isEmpty()) {
                    changed.put(l.name(), what);
                }
            }
        }
        List<String> removed = current.listeners().stream()
                .map(ListenerConfig::name)
                .filter(n -> next.listener(n).isEmpty())
                .toList();
        List<String> sections = new ArrayList<>();
        differs(sections, AUTH, current, next, c -> c.auth().providers());
        differs(sections, CACHE, current, next, c -> c.auth().cache());
        differs(sections, THROTTLE, current, next, c -> c.auth().throttle());
        differs(sections, LIMITS, current, next, PosternConfig::limits);
        differs(sections, TIMEOUTS, current, next, PosternConfig::timeouts);
        differs(sections, TLS, current, next, PosternConfig::tls);
        List<String> restart = new ArrayList<>();
        differs(restart, "admin", current, next, PosternConfig::admin);
        differs(restart, "cluster", current, next, PosternConfig::cluster);
        differs(restart, "routing.store", current, next, PosternConfig::routeStore);
        differs(restart, "dns", current, next, PosternConfig::dns);
        differs(restart, "transport", current, next, PosternConfig::transport);
        differs(restart, "routing.hold-timeout, routing.max-held-logins", current, next, PosternConfig::holds);
        // the handshake timeout of client connections is built into the TLS handlers at start
        differs(restart, "timeouts.tls-handshake", current, next, c -> c.timeouts()
                .tlsHandshake());
        boolean seeds =
                !current.pools().equals(next.pools()) || !current.routes().equals(next.routes());
        return new ConfigDiff(added, removed, changed, sections, restart, seeds);
    }

    /** The settings of a listener that differ, by their names in the file. */
    static List<String> listenerChanges(ListenerConfig a, ListenerConfig b) {
        List<String> what = new ArrayList<>();
        differs(what, "protocol", a, b, ListenerConfig::protocol);
        differs(what, "bind", a, b, ListenerConfig::bind);
        differs(what, "tls", a, b, ListenerConfig::tls);
        differs(what, "pool", a, b, ListenerConfig::pool);
        differs(what, "allow-plaintext-auth", a, b, ListenerConfig::allowPlaintextAuth);
        differs(what, "starttls-pipelining", a, b, ListenerConfig::startTlsPipelining);
        differs(what, "timeouts", a, b, ListenerConfig::timeouts);
        differs(what, "limits", a, b, ListenerConfig::limits);
        differs(what, "auth", a, b, ListenerConfig::auth);
        differs(what, "smtp", a, b, ListenerConfig::smtp);
        differs(what, "proxy-protocol", a, b, ListenerConfig::proxyProtocol);
        differs(what, "alpn", a, b, ListenerConfig::alpn);
        differs(what, "throttle", a, b, ListenerConfig::throttled);
        differs(what, "client-certificates", a, b, ListenerConfig::clientCertificates);
        return what;
    }

    /** Whether new sessions get anything different. */
    public boolean anyChange() {
        return !added.isEmpty() || !removed.isEmpty() || !changed.isEmpty() || !sections.isEmpty();
    }

    /** Whether authentication must be built anew: its providers, cache or throttle, or the chains that use them. */
    public boolean authChanged(PosternConfig current, PosternConfig next) {
        return sections.contains(AUTH)
                || sections.contains(CACHE)
                || sections.contains(THROTTLE)
                || !chains(current).equals(chains(next));
    }

    private static List<List<String>> chains(PosternConfig c) {
        return c.listeners().stream()
                .map(ListenerConfig::auth)
                .distinct()
                .sorted((x, y) -> x.toString().compareTo(y.toString()))
                .toList();
    }

    private static <C> void differs(List<String> out, String name, C a, C b, Function<C, ?> part) {
        if (!Objects.equals(part.apply(a), part.apply(b))) {
            out.add(name);
        }
    }
}
