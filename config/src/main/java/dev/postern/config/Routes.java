package dev.postern.config;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Which pool a user's sessions go to. Precedence (most specific first): an auth answer naming a pool or backend, an
 * exact user route, an exact domain route, the longest matching wildcard domain route ({@code *.example.com} matches
 * {@code a.example.com} and {@code b.a.example.com}, not {@code example.com}), the listener's pool, the default
 * pool.
 *
 * @param users exact user name (lowercase) to pool
 * @param domains domain or {@code *.domain} (lowercase) to pool
 * @param defaultPool the pool for users no other rule matches
 * @param pins user (lowercase) to the id of one backend of the pool of the user's route: that user's sessions go
 *     there and nowhere else (a mailbox moved to that backend; while it cannot take them the login fails
 *     temporarily); a pin without a user route means nothing and is dropped
 */
public record Routes(
        Map<String, String> users,
        Map<String, String> domains,
        Optional<String> defaultPool,
        Map<String, String> pins) {
    public static final Routes NONE = new Routes(Map.of(), Map.of(), Optional.empty());

    public Routes {
        users = Map.copyOf(lowercaseKeys(users));
        domains = Map.copyOf(lowercaseKeys(domains));
        Objects.requireNonNull(defaultPool, "defaultPool");
        Map<String, String> kept = lowercaseKeys(pins);
        kept.keySet().retainAll(users.keySet());
        pins = Map.copyOf(kept);
    }

    /** Routes without pins. */
    public Routes(Map<String, String> users, Map<String, String> domains, Optional<String> defaultPool) {
        this(users, domains, defaultPool, Map.of());
    }

    /** The same routes with other user routes; the pins of users still routed stay. */
    public Routes withUsers(Map<String, String> newUsers) {
        return new Routes(newUsers, domains, defaultPool, pins);
    }

    /** The same routes with other domain routes. */
    public Routes withDomains(Map<String, String> newDomains) {
        return new Routes(users, newDomains, defaultPool, pins);
    }

    /** The same routes with another default pool. */
    public Routes withDefaultPool(Optional<String> pool) {
        return new Routes(users, domains, pool, pins);
    }

    /**
     * The same routes with {@code user} sent to {@code pool}, pinned to {@code backend} when given (and unpinned
     * when not).
     */
    public Routes withUser(String user, String pool, Optional<String> backend) {
        String u = user.toLowerCase(Locale.ROOT);
        Map<String, String> u2 = new TreeMap<>(users);
        u2.put(u, pool);
        Map<String, String> p2 = new TreeMap<>(pins);
        p2.remove(u);
        backend.ifPresent(b -> p2.put(u, b));
        return new Routes(u2, domains, defaultPool, p2);
    }

    /** The backend {@code user} is pinned to, if any. */
    public Optional<String> pin(String user) {
        return Optional.ofNullable(pins.get(user.toLowerCase(Locale.ROOT)));
    }

    private static Map<String, String> lowercaseKeys(Map<String, String> map) {
        Map<String, String> out = new TreeMap<>();
        map.forEach((k, v) -> out.put(k.toLowerCase(Locale.ROOT), v));
        return out;
    }

    /** The rule that routes {@code user}, if any (not counting the listener's pool). */
    public Optional<Match> match(String user) {
        String u = user.toLowerCase(Locale.ROOT);
        String pool = users.get(u);
        if (pool != null) {
            return Optional.of(new Match("user", u, pool));
        }
        int at = u.lastIndexOf('@');
        if (at >= 0 && at + 1 < u.length()) {
            String domain = u.substring(at + 1);
            pool = domains.get(domain);
            if (pool != null) {
                return Optional.of(new Match("domain", domain, pool));
            }
            // longest wildcard first: *.b.example.com before *.example.com
            for (int dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
                String wildcard = "*" + domain.substring(dot);
                pool = domains.get(wildcard);
                if (pool != null) {
                    return Optional.of(new Match("domain", wildcard, pool));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * A routing rule that matched.
     *
     * @param kind {@code user}, {@code domain} (later also {@code auth}, {@code listener}, {@code default})
     * @param key the user name or domain pattern that matched
     * @param pool the pool it names
     */
    public record Match(String kind, String key, String pool) {}
}
