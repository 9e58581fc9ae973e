package dev.postern.admin;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything between a parsed HTTP request and its response: authentication, routing, the worker hand-off, and the
 * audit line. Knows nothing of Netty's channels; the connection handler feeds it {@link Incoming} requests.
 */
final class AdminApi {
    private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
    private static final Logger audit = LoggerFactory.getLogger("postern.audit");
    private static final int MAX_AUDIT_TARGET = 256;

    /**
     * A request as received, already copied out of Netty's buffers.
     *
     * @param method the method
     * @param uri the request target
     * @param headers the headers
     * @param body the body
     */
    record Incoming(HttpMethod method, String uri, HttpHeaders headers, byte[] body) {}

    private final Router router;
    private final Tokens tokens;
    private final boolean metricsAuth;
    private final Executor workers;
    private final LongSupplier revision;

    AdminApi(Router router, Tokens tokens, boolean metricsAuth, Executor workers, LongSupplier revision) {
        this.router = router;
        this.tokens = tokens;
        this.metricsAuth = metricsAuth;
        this.workers = workers;
        this.revision = revision;
    }

    /** Answers {@code in}; the future never fails (errors become problem responses). */
    CompletableFuture<ApiResponse> handle(Incoming in) {
        String rawPath = new QueryStringDecoder(in.uri()).rawPath();
        Caller caller = tokens.authenticate(in.headers().get(HttpHeaderNames.AUTHORIZATION));
        boolean write = isWrite(in.method());
        // every decision below is made on the decoded path, so /%61pi/... is /api/... for the token check too
        List<String> segments = decodeSegments(rawPath);
        if (segments == null) {
            return CompletableFuture.completedFuture(audited(
                    in,
                    caller,
                    write,
                    ApiResponse.problem(Problem.of(
                            HttpResponseStatus.BAD_REQUEST, "the path is not valid percent-encoded UTF-8"))));
        }
        String path = "/" + String.join("/", segments);
        ApiResponse early = check(segments, path, caller);
        if (early != null) {
            return CompletableFuture.completedFuture(audited(in, caller, write, early));
        }
        Router.Match match = router.match(in.method(), segments);
        if (match instanceof Router.NotFound) {
            return CompletableFuture.completedFuture(audited(
                    in,
                    caller,
                    write,
                    ApiResponse.problem(Problem.of(HttpResponseStatus.NOT_FOUND, "no resource " + rawPath))));
        }
        if (match instanceof Router.WrongMethod wrong) {
            String allow = String.join(", ", wrong.allowed());
            return CompletableFuture.completedFuture(audited(
                    in,
                    caller,
                    write,
                    ApiResponse.problem(Problem.of(
                                    HttpResponseStatus.METHOD_NOT_ALLOWED,
                                    in.method() + " is not allowed here (allowed: " + allow + ")"))
                            .withHeader("Allow", allow)));
        }
        Router.Found found = (Router.Found) match;
        if (write && !caller.mayWrite() && requiresToken(segments, path)) {
            return CompletableFuture.completedFuture(audited(
                    in,
                    caller,
                    write,
                    ApiResponse.problem(
                            Problem.of(HttpResponseStatus.FORBIDDEN, "token '" + caller.name() + "' is read-only"))));
        }
        if (in.body().length > 0 && write && !isJson(in.headers().get(HttpHeaderNames.CONTENT_TYPE))) {
            // a form or text/plain body is what a browser may send cross-site without a preflight: never parse it
            return CompletableFuture.completedFuture(audited(
                    in,
                    caller,
                    write,
                    ApiResponse.problem(Problem.of(
                            HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "a request body must be application/json"))));
        }
        ApiRequest request = new ApiRequest(
                in.method(),
                path,
                in.uri(),
                found.params(),
                new QueryStringDecoder(in.uri()).parameters(),
                in.headers(),
                in.body(),
                caller);
        if (path.equals(SystemResources.HEALTHZ)) {
            // no worker needed, and a busy worker must not make the process look dead
            return CompletableFuture.completedFuture(run(found.route(), request, write));
        }
        try {
            return CompletableFuture.supplyAsync(() -> run(found.route(), request, write), workers);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(audited(
                    in,
                    caller,
                    write,
                    ApiResponse.problem(Problem.of(
                                    HttpResponseStatus.SERVICE_UNAVAILABLE, "the admin API is busy; try again"))
                            .withHeader("Retry-After", "1")));
        }
    }

    /** {@code application/json}, with parameters (a charset) or without, in any case. */
    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semicolon = contentType.indexOf(';');
        String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim();
        return type.equalsIgnoreCase("application/json");
    }

    /** 401 for a missing or wrong token where one is needed; null to go on. */
    private ApiResponse check(List<String> segments, String path, Caller caller) {
        if (!requiresToken(segments, path) || caller.authenticated()) {
            return null;
        }
        String detail = tokens.isEmpty()
                ? "a bearer token is required, and none is configured (admin.tokens)"
                : "a valid bearer token is required";
        return ApiResponse.problem(Problem.of(HttpResponseStatus.UNAUTHORIZED, detail))
                .withHeader("WWW-Authenticate", "Bearer realm=\"postern\"");
    }

    /** Everything under {@code /api} needs a token; {@code /metrics} when so configured; health checks never. */
    private boolean requiresToken(List<String> segments, String path) {
        if (path.equals(SystemResources.METRICS)) {
            return metricsAuth;
        }
        return !segments.isEmpty() && segments.get(0).equals("api");
    }

    private ApiResponse run(Router.Route route, ApiRequest request, boolean write) {
        ApiResponse response;
        try {
            response = route.handler().handle(request);
        } catch (ApiException e) {
            response = ApiResponse.problem(e.problem());
        } catch (RuntimeException e) {
            log.error("admin API: {} {} failed", request.method(), route.template(), e);
            response = ApiResponse.problem(Problem.of(
                    HttpResponseStatus.INTERNAL_SERVER_ERROR, "an internal error occurred; see the Postern log"));
        }
        return audited(request.method(), request.rawTarget(), request.caller(), write, response);
    }

    private ApiResponse audited(Incoming in, Caller caller, boolean write, ApiResponse response) {
        return audited(in.method(), in.uri(), caller, write, response);
    }

    private ApiResponse audited(HttpMethod method, String target, Caller caller, boolean write, ApiResponse response) {
        if (write) {
            long before = response.revisionBefore();
            long after = response.revisionAfter();
            if (before < 0) {
                before = revision.getAsLong();
                after = before;
            }
            audit.info(
                    "token={} action={} {} revision={}->{} result={}",
                    caller.name(),
                    method.name(),
                    printable(target),
                    before,
                    after,
                    response.status().code());
        }
        return response;
    }

    /** Writes the audit line for a request refused before it reached the API (a body over the limit). */
    void refused(HttpMethod method, String uri, String authorization, HttpResponseStatus status) {
        if (isWrite(method)) {
            Caller caller = tokens.authenticate(authorization);
            long r = revision.getAsLong();
            audit.info(
                    "token={} action={} {} revision={}->{} result={}",
                    caller.name(),
                    method.name(),
                    printable(uri),
                    r,
                    r,
                    status.code());
        }
    }

    static boolean isWrite(HttpMethod method) {
        return !method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD) && !method.equals(HttpMethod.OPTIONS);
    }

    /** The target as one log-safe token: printable ASCII only, bounded. */
    private static String printable(String s) {
        StringBuilder out = new StringBuilder(Math.min(s.length(), MAX_AUDIT_TARGET));
        for (int i = 0; i < s.length() && out.length() < MAX_AUDIT_TARGET; i++) {
            char c = s.charAt(i);
            out.append(c > ' ' && c < 0x7f ? c : '?');
        }
        if (s.length() > MAX_AUDIT_TARGET) {
            out.append("...");
        }
        return out.toString();
    }

    /** The path's segments, percent-decoded one by one (so {@code %2F} stays inside its segment); null if invalid. */
    static List<String> decodeSegments(String rawPath) {
        List<String> segments = new ArrayList<>();
        for (String raw : Router.split(rawPath)) {
            String decoded = percentDecode(raw);
            if (decoded == null) {
                return null;
            }
            segments.add(decoded);
        }
        return segments;
    }

    /** RFC 3986 percent-decoding of a path segment ({@code +} is a plus sign here, not a space); null if invalid. */
    static String percentDecode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    return null;
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                bytes.write(hi * 16 + lo);
                i += 2;
            } else if (c < 0x100) {
                // the HTTP decoder reads the request line byte by byte (ISO-8859-1)
                bytes.write(c);
            } else {
                byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(utf8, 0, utf8.length);
            }
        }
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
