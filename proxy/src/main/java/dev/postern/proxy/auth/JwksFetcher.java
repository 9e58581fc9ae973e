package dev.postern.proxy.auth;

import com.nimbusds.jose.jwk.JWKSet;
import dev.postern.config.JwtProviderConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.text.ParseException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Where a JWKS comes from: an HTTP(S) URL, fetched by the JDK's client with the provider's timeout, or a local file;
 * either way on {@code executor}, never on an event loop. Only public keys are kept from what is read.
 */
final class JwksFetcher {
    /** A key set is a few KiB; a megabyte is a misconfigured URL, not keys. */
    private static final int MAX_BYTES = 1024 * 1024;

    private JwksFetcher() {}

    static Supplier<CompletionStage<JWKSet>> of(JwtProviderConfig config, Executor executor) {
        if (config.jwksFile().isPresent()) {
            Path file = config.jwksFile().get();
            return () -> CompletableFuture.supplyAsync(() -> readFile(file), executor);
        }
        URI url = config.jwksUrl().orElseThrow();
        HttpClient.Builder builder = HttpClient.newBuilder()
                .connectTimeout(config.timeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(executor);
        if (!config.tlsVerify()) {
            builder.sslContext(trustingContext());
        }
        HttpClient client = builder.build();
        HttpRequest request = HttpRequest.newBuilder(url)
                .timeout(config.timeout())
                .header("Accept", "application/jwk-set+json, application/json")
                .GET()
                .build();
        return () -> client.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
                .thenApplyAsync(
                        response -> {
                            // read at most one byte past the bound: a huge answer costs no more than that
                            try (InputStream body = response.body()) {
                                if (response.statusCode() != 200) {
                                    throw new IOException(url + " answered HTTP " + response.statusCode());
                                }
                                return parse(body.readNBytes(MAX_BYTES + 1), url.toString());
                            } catch (IOException e) {
                                throw new CompletionException(e);
                            }
                        },
                        executor);
    }

    private static JWKSet readFile(Path file) {
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new IOException(file + " is larger than " + MAX_BYTES + " bytes");
            }
            return parse(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new CompletionException(e);
        }
    }

    private static JWKSet parse(byte[] body, String from) {
        if (body.length > MAX_BYTES) {
            throw new CompletionException(new IOException(from + ": more than " + MAX_BYTES + " bytes"));
        }
        try {
            // toPublicJWKSet: a private or symmetric key published by mistake is never used to verify
            return JWKSet.parse(new String(body, StandardCharsets.UTF_8)).toPublicJWKSet();
        } catch (ParseException e) {
            throw new CompletionException(new IOException(from + " is not a JWKS: " + e.getMessage(), e));
        }
    }

    /** {@code tls-verify: false}: neither chain nor name is checked (the trust manager is where the JDK checks both). */
    static SSLContext trustingContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new TrustingManager()}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no TLS", e);
        }
    }

    private static final class TrustingManager extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
