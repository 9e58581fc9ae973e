package dev.postern.proxy.auth;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A users file of the static provider, parsed: one {@code user:hash} a line, {@code #} comments and blank lines
 * ignored, and after the hash optionally {@code :} and space-separated fields: {@code pool=NAME} (a configured pool)
 * or {@code host=HOST port=PORT} (a backend, as nginx's Auth-Server and Auth-Port). User names are matched without
 * regard to case.
 *
 * @param users by lowercase user name
 */
record UsersFile(Map<String, User> users) {
    /** Files larger than this are refused (a users file is not a database). */
    static final long MAX_BYTES = 64L * 1024 * 1024;

    /**
     * One user.
     *
     * @param name the name as the file spells it (the canonical name)
     * @param hash the password hash
     * @param route where the user's sessions go, if the file says
     */
    record User(String name, PasswordHash hash, Optional<AuthResult.RouteHint> route) {}

    /** Why a file cannot be used: every problem, each naming its line; never a hash. */
    static final class InvalidException extends Exception {
        private static final long serialVersionUID = 1L;
        private final List<String> problems;

        InvalidException(List<String> problems) {
            super(String.join("; ", problems), null, false, false);
            this.problems = List.copyOf(problems);
        }

        List<String> problems() {
            return problems;
        }
    }

    /**
     * Parses a file's text.
     *
     * @param pools the configured pool names, which {@code pool=} must name
     */
    static UsersFile parse(String text, Set<String> pools) throws InvalidException {
        Map<String, User> users = new HashMap<>();
        Map<String, Integer> firstLine = new HashMap<>();
        List<String> problems = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int n = i + 1;
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                problems.add("line " + n + ": not user:hash");
                continue;
            }
            String user = line.substring(0, colon);
            String rest = line.substring(colon + 1);
            int fieldsAt = rest.indexOf(':');
            String hashText = fieldsAt < 0 ? rest : rest.substring(0, fieldsAt);
            String fields = fieldsAt < 0 ? "" : rest.substring(fieldsAt + 1).strip();
            if (user.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
                problems.add("line " + n + ": the user name has a space or control character");
                continue;
            }
            PasswordHash hash;
            try {
                hash = PasswordHash.parse(hashText);
            } catch (IllegalArgumentException e) {
                problems.add("line " + n + " (" + user + "): " + e.getMessage());
                continue;
            }
            Optional<AuthResult.RouteHint> route;
            try {
                route = route(fields, pools);
            } catch (IllegalArgumentException e) {
                problems.add("line " + n + " (" + user + "): " + e.getMessage());
                continue;
            }
            String key = user.toLowerCase(Locale.ROOT);
            Integer previous = firstLine.putIfAbsent(key, n);
            if (previous != null) {
                problems.add("line " + n + ": " + user + " is already on line " + previous);
                continue;
            }
            users.put(key, new User(user, hash, route));
        }
        if (!problems.isEmpty()) {
            throw new InvalidException(problems);
        }
        return new UsersFile(Map.copyOf(users));
    }

    private static Optional<AuthResult.RouteHint> route(String fields, Set<String> pools) {
        if (fields.isEmpty()) {
            return Optional.empty();
        }
        String pool = null;
        String host = null;
        int port = 0;
        for (String field : fields.split("\\s+")) {
            int eq = field.indexOf('=');
            String key = eq < 0 ? field : field.substring(0, eq);
            String value = eq < 0 ? "" : field.substring(eq + 1);
            if (value.isEmpty()) {
                throw new IllegalArgumentException("field '" + key + "' needs a value (key=value)");
            }
            switch (key) {
                case "pool" -> {
                    if (!pools.contains(value)) {
                        throw new IllegalArgumentException("no pool named '" + value + "' (pools: "
                                + String.join(", ", pools.stream().sorted().toList()) + ")");
                    }
                    pool = value;
                }
                case "host" -> host = value;
                case "port" -> {
                    if (!value.matches("\\d{1,5}") || Integer.parseInt(value) < 1 || Integer.parseInt(value) > 65535) {
                        throw new IllegalArgumentException("port '" + value + "' is not a port (1-65535)");
                    }
                    port = Integer.parseInt(value);
                }
                default -> throw new IllegalArgumentException("unknown field '" + key + "' (known: pool, host, port)");
            }
        }
        if (pool != null && host != null) {
            throw new IllegalArgumentException("give either pool or host, not both");
        }
        if (port != 0 && host == null) {
            throw new IllegalArgumentException("port needs host");
        }
        return Optional.of(new AuthResult.RouteHint(pool, host, port));
    }

    Optional<User> user(String name) {
        return Optional.ofNullable(users.get(name.toLowerCase(Locale.ROOT)));
    }
}
