package dev.postern.admin;

import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The API's route table: a method and a path template ({@code /api/v1/pools/{pool}}) per handler. A literal segment
 * wins over a {@code {parameter}} segment where both match.
 */
final class Router {
    /** Handles one request. */
    @FunctionalInterface
    interface Handler {
        ApiResponse handle(ApiRequest request) throws ApiException;
    }

    /**
     * One route.
     *
     * @param method the HTTP method
     * @param template the path template
     * @param handler what answers it
     */
    record Route(HttpMethod method, String template, Handler handler) {
        List<String> segments() {
            return split(template);
        }
    }

    /** The outcome of matching a request. */
    sealed interface Match {}

    /** A route answers it, with these parameter values. */
    record Found(Route route, Map<String, String> params) implements Match {}

    /** The path exists, but not for this method. */
    record WrongMethod(Set<String> allowed) implements Match {}

    /** No route has this path. */
    record NotFound() implements Match {}

    private final List<Route> routes = new ArrayList<>();

    void add(HttpMethod method, String template, Handler handler) {
        for (Route r : routes) {
            if (r.method().equals(method) && r.template().equals(template)) {
                throw new IllegalArgumentException("duplicate route " + method + " " + template);
            }
        }
        routes.add(new Route(method, template, handler));
    }

    List<Route> routes() {
        return List.copyOf(routes);
    }

    /** Matches a decoded path's segments (as split by {@link #split}). */
    Match match(HttpMethod method, List<String> segments) {
        Found best = null;
        int bestLiterals = -1;
        Set<String> allowed = new TreeSet<>();
        for (Route r : routes) {
            Map<String, String> params = bind(r.segments(), segments);
            if (params == null) {
                continue;
            }
            int literals = literals(r.segments());
            if (!r.method().equals(method)) {
                allowed.add(r.method().name());
                continue;
            }
            if (literals > bestLiterals) {
                best = new Found(r, params);
                bestLiterals = literals;
            }
        }
        if (best != null) {
            return best;
        }
        return allowed.isEmpty() ? new NotFound() : new WrongMethod(allowed);
    }

    /** Template segments bound to path segments; null when they do not match. */
    private static Map<String, String> bind(List<String> template, List<String> path) {
        if (template.size() != path.size()) {
            return null;
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < template.size(); i++) {
            String t = template.get(i);
            String p = path.get(i);
            if (isParameter(t)) {
                if (p.isEmpty()) {
                    return null;
                }
                params.put(t.substring(1, t.length() - 1), p);
            } else if (!t.equals(p)) {
                return null;
            }
        }
        return params;
    }

    private static int literals(List<String> template) {
        int n = 0;
        for (String s : template) {
            if (!isParameter(s)) {
                n++;
            }
        }
        return n;
    }

    private static boolean isParameter(String segment) {
        return segment.startsWith("{") && segment.endsWith("}");
    }

    /** {@code /a/b/c} as {@code [a, b, c]}; a trailing slash makes an empty last segment (which matches nothing). */
    static List<String> split(String path) {
        List<String> out = new ArrayList<>();
        int start = path.startsWith("/") ? 1 : 0;
        if (start >= path.length()) {
            return out;
        }
        int i = start;
        while (true) {
            int slash = path.indexOf('/', i);
            if (slash < 0) {
                out.add(path.substring(i));
                return out;
            }
            out.add(path.substring(i, slash));
            i = slash + 1;
        }
    }
}
