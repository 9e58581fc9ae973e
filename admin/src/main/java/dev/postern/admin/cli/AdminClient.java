package dev.postern.admin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** The admin API over HTTP, for the command line: JSON in, JSON out, problems as {@link Failure}. */
final class AdminClient {
    static final ObjectMapper MAPPER = new ObjectMapper();

    /** The call did not succeed; the message is what the user should read. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * An answer.
     *
     * @param status the HTTP status
     * @param body the body as text
     */
    record Reply(int status, String body) {
        JsonNode json() throws Failure {
            try {
                return MAPPER.readTree(body);
            } catch (IOException e) {
                throw new Failure("the answer is not JSON (HTTP " + status + ")");
            }
        }
    }

    private final URI base;
    private final String token;
    private final HttpClient http;

    AdminClient(URI base, String token, Path caCert) throws Failure {
        this.base = base;
        this.token = token;
        HttpClient.Builder b =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5));
        if (caCert != null) {
            b.sslContext(trusting(caCert));
        }
        this.http = b.build();
    }

    /** An SSL context that trusts the certificates in a PEM file (a self-signed admin certificate, a private CA). */
    private static SSLContext trusting(Path pem) throws Failure {
        try (InputStream in = Files.newInputStream(pem)) {
            Collection<? extends Certificate> certs =
                    CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new Failure(pem + ": no certificate in it");
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate c : certs) {
                store.setCertificateEntry("ca" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException e) {
            throw new Failure(pem + ": cannot be read (" + e.getClass().getSimpleName() + ")");
        } catch (GeneralSecurityException e) {
            throw new Failure(pem + ": not a PEM certificate (" + e.getMessage() + ")");
        }
    }

    static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String query(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    Reply get(String path) throws Failure {
        return send("GET", path, null);
    }

    /** Sends a request; a 2xx comes back, anything else is a {@link Failure} explaining it. */
    Reply send(String method, String path, JsonNode body) throws Failure {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30));
        if (token != null && !token.isEmpty()) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
            b.method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (ConnectException e) {
            throw new Failure(
                    "cannot reach " + base + " (connection refused; is admin.bind set, and is Postern" + " running?)");
        } catch (HttpTimeoutException e) {
            throw new Failure(base + " did not answer in time");
        } catch (IOException e) {
            throw new Failure("cannot talk to " + base + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted");
        }
        Reply reply = new Reply(r.statusCode(), r.body());
        if (r.statusCode() / 100 != 2) {
            throw new Failure(problem(reply));
        }
        return reply;
    }

    /** A problem document as lines: the status, the detail, then each error with its path or parameter. */
    private static String problem(Reply reply) {
        StringBuilder s = new StringBuilder("HTTP " + reply.status());
        JsonNode p;
        try {
            p = MAPPER.readTree(reply.body());
        } catch (IOException e) {
            return s.toString();
        }
        if (p == null || !p.isObject()) {
            return s.toString();
        }
        if (p.hasNonNull("title")) {
            s.append(' ').append(p.get("title").asText());
        }
        if (p.hasNonNull("detail")) {
            s.append(": ").append(p.get("detail").asText());
        }
        if (reply.status() == 401) {
            s.append(" (give --token or set POSTERN_ADMIN_TOKEN)");
        }
        JsonNode errors = p.get("errors");
        if (errors != null && errors.isArray() && errors.size() > 1) {
            for (JsonNode e : errors) {
                String where = e.hasNonNull("path")
                        ? e.get("path").asText()
                        : e.path("parameter").asText();
                s.append("\n  ")
                        .append(where)
                        .append(": ")
                        .append(e.path("message").asText());
            }
        }
        // a configuration reload refused: every problem of the file, with its path in the file
        for (JsonNode e : p.path("problems")) {
            String where = e.path("path").asText();
            s.append("\n  ")
                    .append(where.isEmpty() ? "" : where + ": ")
                    .append(e.path("message").asText());
        }
        return s.toString();
    }
}
