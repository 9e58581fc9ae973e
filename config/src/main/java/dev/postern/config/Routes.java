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
 */
public record Routes(Map<String, String> users, Map<String, String> domains, Optional<String> defaultPool) {
    public static final Routes NONE = new Routes(Map.of(), Map.of(), Optional.empty());

    public Routes {
        users = Map.copyOf(lowercaseKeys(users));
        domains = Map.copyOf(lowercaseKeys(domains));
        Objects.requireNonNull(defaultPool, "defaultPool");
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
