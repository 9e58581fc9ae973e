package dev.postern.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a handler answers; turned into an HTTP response by the connection handler.
 *
 * @param status the HTTP status
 * @param contentType the body's media type
 * @param body the body
 * @param headers extra headers ({@code ETag}, {@code Location}, {@code Allow})
 * @param revisionBefore for the audit line: the revision a change was based on (-1 when nothing was changed)
 * @param revisionAfter the revision it made
 */
record ApiResponse(
        HttpResponseStatus status,
        String contentType,
        byte[] body,
        Map<String, String> headers,
        long revisionBefore,
        long revisionAfter) {
    static final String JSON = "application/json";
    static final String PROBLEM_JSON = "application/problem+json";

    ApiResponse {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(contentType, "contentType");
        Objects.requireNonNull(body, "body");
        headers = Map.copyOf(headers);
    }

    static ApiResponse json(HttpResponseStatus status, JsonNode node) {
        return new ApiResponse(status, JSON, Json.bytes(node), Map.of(), -1, -1);
    }

    static ApiResponse ok(JsonNode node) {
        return json(HttpResponseStatus.OK, node);
    }

    static ApiResponse problem(Problem problem) {
        return new ApiResponse(problem.status(), PROBLEM_JSON, Json.bytes(problem.toJson()), Map.of(), -1, -1);
    }

    static ApiResponse raw(HttpResponseStatus status, String contentType, byte[] body) {
        return new ApiResponse(status, contentType, body, Map.of(), -1, -1);
    }

    ApiResponse withHeader(String name, String value) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put(name, value);
        return new ApiResponse(status, contentType, body, h, revisionBefore, revisionAfter);
    }

    /** Tags the response with a routing table revision ({@code ETag: "7"}). */
    ApiResponse withRevision(long revision) {
        return withHeader("ETag", etag(revision));
    }

    /** Records a change from one revision to the next (ETag and audit line). */
    ApiResponse changed(long before, long after) {
        return new ApiResponse(status, contentType, body, headers, before, after).withRevision(after);
    }

    static String etag(long revision) {
        return "\"" + revision + "\"";
    }
}
