package dev.postern.proxy.auth;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.postern.config.IntrospectionConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * RFC 7662 section 2: POSTs a token to the introspection endpoint with Postern's client credentials (HTTP Basic, the
 * id and secret form-encoded first as RFC 6749 section 2.3.1 says) and reads the JSON answer. The JDK's client does
 * the work on {@code executor}, never on an event loop. Anything but a 200 with a JSON object completes
 * exceptionally: the endpoint, not the token, is at fault, and the login gets a temporary error.
 */
final class IntrospectionClient {
    /** An answer is a few hundred bytes; a megabyte is a misconfigured URL. */
    private static final int MAX_BYTES = 1024 * 1024;

    private IntrospectionClient() {}

    /** The endpoint of {@code config} as a function from a token to the answer's members. */
    static Function<String, CompletionStage<Map<String, Object>>> of(IntrospectionConfig config, Executor executor) {
        HttpClient.Builder builder = HttpClient.newBuilder()
                .connectTimeout(config.timeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(executor);
        if (!config.tlsVerify()) {
            builder.sslContext(JwksFetcher.trustingContext());
        }
        HttpClient client = builder.build();
        URI url = config.url();
        String basic = "Basic "
                + Base64.getEncoder()
                        .encodeToString((form(config.clientId()) + ":"
                                        + form(config.clientSecret().reveal()))
                                .getBytes(StandardCharsets.UTF_8));
        return token -> {
            HttpRequest request = HttpRequest.newBuilder(url)
                    .timeout(config.timeout())
                    .header("Authorization", basic)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Accept", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("token=" + form(token) + "&token_type_hint=access_token"))
                    .build();
            try {
                return client.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
                        .thenApplyAsync(IntrospectionClient::read, executor);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        };
    }

    private static Map<String, Object> read(HttpResponse<InputStream> response) {
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) {
                // 401: Postern's own credentials are wrong; 5xx: the endpoint is down. Neither is the user's fault
                throw new IOException("the introspection endpoint answered HTTP " + response.statusCode());
            }
            byte[] bytes = body.readNBytes(MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                throw new IOException("the introspection answer is larger than " + MAX_BYTES + " bytes");
            }
            return JSONObjectUtils.parse(new String(bytes, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CompletionException(e);
        } catch (ParseException e) {
            throw new CompletionException(new IOException("the introspection answer is not a JSON object", e));
        }
    }

    private static String form(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
