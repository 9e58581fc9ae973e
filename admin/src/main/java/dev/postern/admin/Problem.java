package dev.postern.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.config.ConfigProblem;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An error answer as an RFC 9457 problem document ({@code application/problem+json}): {@code type}, {@code title},
 * {@code status}, {@code detail}, and for invalid input an {@code errors} array with one entry per problem, each with
 * the JSON path of the value at fault in the request body ({@code $.backends[1].weight}), or with the request
 * parameter at fault ({@code parameter: "user"}).
 *
 * @param status the HTTP status
 * @param type a URI naming the kind of problem; {@code about:blank} when the status says it all
 * @param title a short summary of the kind of problem
 * @param detail what happened this time; empty for none
 * @param errors the individual problems (invalid input)
 * @param extensions more members of the document, after the standard ones (RFC 9457 section 3.2)
 */
record Problem(
        HttpResponseStatus status,
        String type,
        String title,
        String detail,
        List<FieldError> errors,
        Map<String, JsonNode> extensions) {
    static final String TYPE_PREFIX = "urn:postern:problem:";

    Problem {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(detail, "detail");
        errors = List.copyOf(errors);
        extensions = Collections.unmodifiableMap(new LinkedHashMap<>(extensions));
    }

    Problem(HttpResponseStatus status, String type, String title, String detail, List<FieldError> errors) {
        this(status, type, title, detail, errors, Map.of());
    }

    /** The same problem with one more member ({@code nodes}, ...). */
    Problem with(String name, JsonNode value) {
        Map<String, JsonNode> more = new LinkedHashMap<>(extensions);
        more.put(name, value);
        return new Problem(status, type, title, detail, errors, more);
    }

    /**
     * One thing wrong with the input.
     *
     * @param path the JSON path into the request body ({@code $} is the whole document); null when the problem is a
     *     request parameter's
     * @param parameter the URL path or query parameter at fault; null when the problem is in the body
     * @param message what is wrong
     */
    record FieldError(String path, String parameter, String message) {
        static FieldError body(String configPath, String message) {
            return new FieldError(jsonPath(configPath), null, message);
        }

        static FieldError parameter(String name, String message) {
            return new FieldError(null, name, message);
        }
    }

    /** A problem whose status says it all. */
    static Problem of(HttpResponseStatus status, String detail) {
        return new Problem(status, "about:blank", status.reasonPhrase(), detail, List.of());
    }

    /** A problem of a named kind. */
    static Problem typed(HttpResponseStatus status, String kind, String title, String detail) {
        return new Problem(status, TYPE_PREFIX + kind, title, detail, List.of());
    }

    /** 400 for a body that fails validation: one error per problem. */
    static Problem invalid(List<ConfigProblem> problems) {
        List<FieldError> errors = new ArrayList<>();
        for (ConfigProblem p : problems) {
            errors.add(FieldError.body(p.path(), p.message()));
        }
        return invalidWith(errors);
    }

    /** 400 with the given errors. */
    static Problem invalidWith(List<FieldError> errors) {
        String detail =
                errors.size() == 1 ? errors.get(0).message() : errors.size() + " problems; the change was not applied";
        return new Problem(
                HttpResponseStatus.BAD_REQUEST,
                TYPE_PREFIX + "invalid-input",
                "The request is invalid",
                detail,
                errors);
    }

    /** A config path ({@code backends[1].weight}) as a JSON path ({@code $.backends[1].weight}). */
    static String jsonPath(String configPath) {
        if (configPath.isEmpty()) {
            return "$";
        }
        return configPath.startsWith("[") ? "$" + configPath : "$." + configPath;
    }

    ObjectNode toJson() {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("type", type);
        root.put("title", title);
        root.put("status", status.code());
        if (!detail.isEmpty()) {
            root.put("detail", detail);
        }
        if (!errors.isEmpty()) {
            ArrayNode list = root.putArray("errors");
            for (FieldError e : errors) {
                ObjectNode n = list.addObject();
                if (e.path() != null) {
                    n.put("path", e.path());
                }
                if (e.parameter() != null) {
                    n.put("parameter", e.parameter());
                }
                n.put("message", e.message());
            }
        }
        extensions.forEach(root::set);
        return root;
    }
}
