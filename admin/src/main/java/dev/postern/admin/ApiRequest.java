package dev.postern.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.postern.config.ConfigException;
import dev.postern.config.RoutingJson;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One API request, copied out of Netty's buffers so that it can be handled on a worker thread.
 *
 * @param method the HTTP method
 * @param path the decoded path ({@code /api/v1/pools/dovecot})
 * @param rawTarget the request target as sent, for the audit line
 * @param params the values of the path template's {@code {name}} segments
 * @param query the query parameters
 * @param headers the request headers
 * @param body the request body (empty when none)
 * @param caller who sent it
 */
record ApiRequest(
        HttpMethod method,
        String path,
        String rawTarget,
        Map<String, String> params,
        Map<String, List<String>> query,
        HttpHeaders headers,
        byte[] body,
        Caller caller) {

    ApiRequest withParams(Map<String, String> values) {
        return new ApiRequest(method, path, rawTarget, Map.copyOf(values), query, headers, body, caller);
    }

    String param(String name) {
        String value = params.get(name);
        if (value == null) {
            throw new IllegalStateException("route has no parameter " + name);
        }
        return value;
    }

    /** A query parameter given once; a blank value counts as absent. */
    Optional<String> query(String name) throws ApiException {
        List<String> values = query.get(name);
        if (values == null || values.isEmpty()) {
            return Optional.empty();
        }
        if (values.size() > 1) {
            throw ApiException.invalidParameter(name, "is given " + values.size() + " times");
        }
        String value = values.get(0).trim();
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
    }

    /** A boolean query parameter ({@code ?force=true}); absent is false. */
    boolean flag(String name) throws ApiException {
        Optional<String> value = query(name);
        if (value.isEmpty()) {
            return false;
        }
        switch (value.get()) {
            case "true", "1", "yes" -> {
                return true;
            }
            case "false", "0", "no" -> {
                return false;
            }
            default -> throw ApiException.invalidParameter(name, "'" + value.get() + "' is not true or false");
        }
    }

    /**
     * The revision named by {@code If-Match} ({@code "7"}), or -1 when the header is absent or {@code *} (the write
     * then applies to whatever revision is current).
     */
    long ifMatch() throws ApiException {
        String value = headers.get(HttpHeaderNames.IF_MATCH);
        if (value == null || value.trim().equals("*")) {
            return -1;
        }
        String v = value.trim();
        if (v.startsWith("W/")) {
            // a weak tag never matches in If-Match (RFC 9110 13.1.1 uses strong comparison)
            throw new ApiException(Problem.typed(
                    HttpResponseStatus.PRECONDITION_FAILED,
                    "revision-conflict",
                    "The routing table changed",
                    "If-Match needs a strong entity tag such as \"7\""));
        }
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        if (!v.matches("\\d{1,18}")) {
            throw ApiException.invalidParameter(
                    "If-Match", "'" + abbreviate(value) + "' is not a revision's entity tag (such as \"7\")");
        }
        return Long.parseLong(v);
    }

    /** The body as JSON; 400 when it is missing, not UTF-8 or not JSON. */
    JsonNode json() throws ApiException {
        if (body.length == 0) {
            throw ApiException.invalidBody("", "a JSON document is required");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body))
                    .toString();
        } catch (CharacterCodingException e) {
            throw ApiException.invalidBody("", "the body is not UTF-8 text");
        }
        try {
            return RoutingJson.parse(text);
        } catch (ConfigException e) {
            throw ApiException.invalid(e.problems());
        }
    }

    /** The body as JSON, or empty when there is none. */
    Optional<JsonNode> optionalJson() throws ApiException {
        return body.length == 0 ? Optional.empty() : Optional.of(json());
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
