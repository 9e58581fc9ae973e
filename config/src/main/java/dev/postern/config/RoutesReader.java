package dev.postern.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads the {@code routes} section and checks that every pool it names exists. */
final class RoutesReader {
    static final List<String> KEYS = List.of("users", "domains", "default", "pins");

    private static final Pattern DOMAIN =
            Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");

    private RoutesReader() {}

    /** The routes, or null after reporting a problem; {@code poolNames} are the pools that exist. */
    static Routes read(Node node, Set<String> poolNames) {
        if (!node.isPresent()) {
            return Routes.NONE;
        }
        if (!node.isMapping(KEYS)) {
            return null;
        }
        boolean valid = true;
        Map<String, String> users = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : node.get("users").entries()) {
            String user = e.getKey().trim().toLowerCase(Locale.ROOT);
            Optional<String> problem = userProblem(user);
            if (problem.isPresent()) {
                e.getValue().problem("'" + e.getKey() + "' " + problem.get());
                valid = false;
                continue;
            }
            String pool = pool(e.getValue(), poolNames);
            valid &= pool != null;
            if (pool != null && users.putIfAbsent(user, pool) != null) {
                e.getValue().problem("user '" + user + "' is routed twice");
                valid = false;
            }
        }
        Map<String, String> domains = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : node.get("domains").entries()) {
            String domain = e.getKey().trim().toLowerCase(Locale.ROOT);
            Optional<String> problem = domainProblem(domain);
            if (problem.isPresent()) {
                e.getValue().problem("'" + e.getKey() + "' " + problem.get());
                valid = false;
                continue;
            }
            String pool = pool(e.getValue(), poolNames);
            valid &= pool != null;
            if (pool != null && domains.putIfAbsent(domain, pool) != null) {
                e.getValue().problem("domain '" + domain + "' is routed twice");
                valid = false;
            }
        }
        Optional<String> defaultPool = Optional.empty();
        Node defaultNode = node.get("default");
        if (defaultNode.isPresent()) {
            String pool = pool(defaultNode, poolNames);
            valid &= pool != null;
            defaultPool = Optional.ofNullable(pool);
        }
        Map<String, String> pins = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : node.get("pins").entries()) {
            String user = e.getKey().trim().toLowerCase(Locale.ROOT);
            String backend = e.getValue().name();
            if (backend == null) {
                valid = false;
            } else if (!users.containsKey(user)) {
                // the pool is what says which backends there are: a pin needs the user's route
                e.getValue().problem("user '" + user + "' has no user route (a pin names a backend of its pool)");
                valid = false;
            } else {
                pins.put(user, backend);
            }
        }
        return valid ? new Routes(users, domains, defaultPool, pins) : null;
    }

    /** What is wrong with a (lowercased, trimmed) user route key, if anything. */
    static Optional<String> userProblem(String user) {
        return user.isEmpty() || user.chars().anyMatch(c -> c <= ' ' || c == 0x7f)
                ? Optional.of("is not a user name")
                : Optional.empty();
    }

    /** What is wrong with a (lowercased, trimmed) domain route key, if anything. */
    static Optional<String> domainProblem(String domain) {
        return DOMAIN.matcher(domain).matches() ? Optional.empty() : Optional.of("is not a domain or *.domain");
    }

    private static String pool(Node node, Set<String> poolNames) {
        String name = node.name();
        if (name == null) {
            return null;
        }
        if (!poolNames.contains(name)) {
            node.problem("no pool named '" + name + "' (pools: " + String.join(", ", poolNames) + ")");
            return null;
        }
        return name;
    }
}
