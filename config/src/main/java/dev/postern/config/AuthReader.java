package dev.postern.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Reads the {@code auth} section: providers, cache and throttle; and checks a listener's {@code auth} chain. */
final class AuthReader {
    static final List<String> KEYS = List.of("providers", "cache", "throttle");
    static final List<String> STATIC_KEYS = List.of("name", "type", "file", "reload-check");
    static final List<String> HTTP_KEYS =
            List.of("name", "type", "url", "timeout", "headers", "tls-verify", "max-connections");
    static final List<String> CACHE_KEYS = List.of("size", "ttl", "negative-ttl", "refresh-after", "stale-if-error");

    private static final List<String> TYPES = List.of("static", "http", "ldap", "jwt", "oauth2-introspection");
    private static final List<String> PROVIDER_KEYS = union(
            union(union(union(STATIC_KEYS, HTTP_KEYS), LdapReader.KEYS), JwtProviderReader.KEYS),
            IntrospectionReader.KEYS);
    private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]+");
    private static final Duration DEFAULT_RELOAD_CHECK = Duration.ofSeconds(5);
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    private static final int DEFAULT_MAX_CONNECTIONS = 16;

    /** The names of the providers read, valid or not, so listeners naming a broken one are not reported twice. */
    private final List<String> names = new ArrayList<>();

    /** The auth settings; null when something in them is invalid (reported). */
    AuthConfig read(Node section) {
        if (!section.isMapping(KEYS)) {
            return AuthConfig.DEFAULTS;
        }
        List<AuthProviderConfig> providers = providers(section.get("providers"));
        CacheConfig cache = cache(section.get("cache"));
        Optional<ThrottleConfig> throttle = ThrottleReader.read(section.get("throttle"));
        if (providers == null || cache == null || throttle == null) {
            return null;
        }
        return new AuthConfig(providers, cache, throttle);
    }

    /**
     * A listener's chain of provider names; null when invalid (reported). Absent means {@code [backend]}.
     *
     * @param tcp a tcp listener does not authenticate, so it may not have a chain
     */
    List<String> chain(Node node, boolean tcp) {
        if (!node.isPresent()) {
            return List.of(AuthConfig.BACKEND);
        }
        if (tcp) {
            node.problem("a tcp listener does not authenticate (it relays bytes); remove auth");
            return null;
        }
        List<Node> elements = node.nonEmptyList("provider names; the default is [backend]");
        if (elements.isEmpty()) {
            return null;
        }
        List<String> chain = new ArrayList<>();
        boolean valid = true;
        for (int i = 0; i < elements.size(); i++) {
            Node element = elements.get(i);
            String name = element.string("a provider name");
            if (name == null) {
                valid = false;
            } else if (chain.contains(name)) {
                element.problem("'" + name + "' is listed twice");
                valid = false;
            } else if (name.equals(AuthConfig.BACKEND)) {
                if (i != elements.size() - 1) {
                    element.problem("'backend' lets the backend decide, so it can only end the chain");
                    valid = false;
                }
                chain.add(name);
            } else if (!names.contains(name)) {
                String hint = Suggestions.closest(name, known())
                        .map(s -> "did you mean '" + s + "'?")
                        .orElseGet(() -> "providers: " + String.join(", ", known()));
                element.problem("no provider named '" + name + "' (" + hint + ")");
                valid = false;
            } else {
                chain.add(name);
            }
        }
        return valid ? List.copyOf(chain) : null;
    }

    private List<String> known() {
        List<String> known = new ArrayList<>(names);
        known.add(AuthConfig.BACKEND);
        return known;
    }

    private List<AuthProviderConfig> providers(Node node) {
        List<AuthProviderConfig> providers = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        boolean valid = true;
        for (Node element : node.list()) {
            if (!element.isMapping(PROVIDER_KEYS)) {
                if (!element.isPresent()) {
                    element.problem("is empty (a provider needs name and type)");
                }
                valid = false;
                continue;
            }
            Node nameNode = element.get("name").required();
            String name = nameNode.name();
            if (name != null) {
                String previous = seen.putIfAbsent(name, element.path());
                if (name.equals(AuthConfig.BACKEND)) {
                    nameNode.problem("'backend' is the built-in provider that lets the backend decide; choose another"
                            + " name");
                    name = null;
                } else if (previous != null) {
                    nameNode.problem("'" + name + "' is already used by " + previous);
                    name = null;
                } else {
                    names.add(name);
                }
            }
            Node typeNode = element.get("type").required();
            String type = typeNode.string("one of " + String.join(", ", TYPES));
            AuthProviderConfig provider = null;
            if (type != null && !TYPES.contains(type)) {
                typeNode.problem("'" + type + "' is not one of " + String.join(", ", TYPES));
            } else if ("static".equals(type)) {
                provider = staticProvider(element, name);
            } else if ("http".equals(type)) {
                provider = httpProvider(element, name);
            } else if ("ldap".equals(type)) {
                provider = LdapReader.read(element, name, onlyKeys(element, LdapReader.KEYS, "ldap"));
            } else if ("jwt".equals(type)) {
                provider = JwtProviderReader.read(element, name, onlyKeys(element, JwtProviderReader.KEYS, "jwt"));
            } else if ("oauth2-introspection".equals(type)) {
                provider = IntrospectionReader.read(
                        element, name, onlyKeys(element, IntrospectionReader.KEYS, "oauth2-introspection"));
            }
            if (provider == null) {
                valid = false;
            } else {
                providers.add(provider);
            }
        }
        return valid ? providers : null;
    }

    private static boolean onlyKeys(Node element, List<String> allowed, String type) {
        boolean valid = true;
        for (String key : PROVIDER_KEYS) {
            if (!allowed.contains(key) && element.get(key).isPresent()) {
                element.get(key)
                        .problem("is not a setting of " + type + " providers (its keys: " + String.join(", ", allowed)
                                + ")");
                valid = false;
            }
        }
        return valid;
    }

    private static AuthProviderConfig staticProvider(Node element, String name) {
        boolean valid = onlyKeys(element, STATIC_KEYS, "static");
        Path file = element.get("file").required().readableFile();
        Node checkNode = element.get("reload-check");
        Duration check = checkNode.isPresent() ? checkNode.duration(true) : DEFAULT_RELOAD_CHECK;
        if (!valid || name == null || file == null || check == null) {
            return null;
        }
        return new AuthProviderConfig.StaticFile(name, file, check);
    }

    private static AuthProviderConfig httpProvider(Node element, String name) {
        boolean valid = onlyKeys(element, HTTP_KEYS, "http");
        URI url = url(element.get("url").required());
        Node timeoutNode = element.get("timeout");
        Duration timeout = timeoutNode.isPresent() ? timeoutNode.duration(true) : DEFAULT_TIMEOUT;
        Map<String, Secret> headers = headers(element.get("headers"));
        Node verifyNode = element.get("tls-verify");
        Boolean verify = verifyNode.isPresent() ? verifyNode.bool() : Boolean.TRUE;
        Node maxNode = element.get("max-connections");
        Integer max = maxNode.isPresent() ? maxNode.integer(1, 10_000) : Integer.valueOf(DEFAULT_MAX_CONNECTIONS);
        if (!valid
                || name == null
                || url == null
                || timeout == null
                || headers == null
                || verify == null
                || max == null) {
            return null;
        }
        return new AuthProviderConfig.Http(name, url, timeout, headers, verify, max);
    }

    private static URI url(Node node) {
        String text = node.string("an http or https URL");
        if (text == null) {
            return null;
        }
        // a password in the URL would end up in logs; the shared secret belongs in a header
        URI uri = Urls.parse(
                node,
                text,
                List.of("http", "https"),
                "an http or https URL",
                "has user info (user:password@); put credentials in headers instead");
        if (uri == null) {
            return null;
        }
        if (uri.getRawFragment() != null) {
            node.problem("'" + text + "' has a fragment (#...), which is never sent");
            return null;
        }
        return uri;
    }

    private static Map<String, Secret> headers(Node node) {
        Map<String, Secret> headers = new LinkedHashMap<>();
        boolean valid = true;
        for (Map.Entry<String, Node> entry : node.entries()) {
            String key = entry.getKey();
            Node value = entry.getValue();
            if (!HEADER_NAME.matcher(key).matches()) {
                value.problem("'" + key + "' is not an HTTP header name");
                valid = false;
                continue;
            }
            if (key.regionMatches(true, 0, "Auth-", 0, 5)
                    || key.regionMatches(true, 0, "Client-", 0, 7)
                    || key.equalsIgnoreCase("Host")) {
                value.problem("'" + key + "' is set by Postern for each login; choose another name");
                valid = false;
                continue;
            }
            Secret secret = value.secret();
            if (secret == null) {
                valid = false;
            } else if (secret.reveal().chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) {
                value.problem("holds a line break or NUL, which cannot be sent in a header");
                valid = false;
            } else {
                headers.put(key, secret);
            }
        }
        return valid ? headers : null;
    }

    private static CacheConfig cache(Node section) {
        CacheConfig d = CacheConfig.DEFAULTS;
        if (!section.isMapping(CACHE_KEYS)) {
            return d;
        }
        Node sizeNode = section.get("size");
        Integer size = sizeNode.isPresent() ? sizeNode.integer(0, 100_000_000) : Integer.valueOf(d.size());
        Duration ttl = duration(section.get("ttl"), d.ttl(), true);
        Duration negativeTtl = duration(section.get("negative-ttl"), d.negativeTtl(), true);
        Duration refreshAfter = duration(section.get("refresh-after"), d.refreshAfter(), false);
        Duration staleIfError = duration(section.get("stale-if-error"), d.staleIfError(), false);
        if (size == null || ttl == null || negativeTtl == null || refreshAfter == null || staleIfError == null) {
            return null;
        }
        boolean valid = true;
        if (negativeTtl.compareTo(ttl) > 0) {
            section.get(section.get("negative-ttl").isPresent() ? "negative-ttl" : "ttl")
                    .problem("negative-ttl (" + Units.format(negativeTtl) + ") must not be longer than ttl ("
                            + Units.format(ttl) + "): a wrong password is remembered for less time than a right one");
            valid = false;
        }
        if (!refreshAfter.isZero() && refreshAfter.compareTo(ttl) >= 0) {
            section.get(section.get("refresh-after").isPresent() ? "refresh-after" : "ttl")
                    .problem("refresh-after (" + Units.format(refreshAfter) + ") must be shorter than ttl ("
                            + Units.format(ttl) + "), or 0 to turn refreshing off");
            valid = false;
        }
        return valid ? new CacheConfig(size, ttl, negativeTtl, refreshAfter, staleIfError) : null;
    }

    private static Duration duration(Node node, Duration fallback, boolean positive) {
        return node.isPresent() ? node.duration(positive) : fallback;
    }

    private static Integer integer(Node node, long min, long max, int fallback) {
        return node.isPresent() ? node.integer(min, max) : Integer.valueOf(fallback);
    }

    private static List<String> union(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        b.stream().filter(k -> !all.contains(k)).forEach(all::add);
        return List.copyOf(all);
    }
}
