package dev.postern.proxy.auth;

import dev.postern.config.Protocol;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.session.ClientCertificate;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * nginx's {@code auth_http} protocol, both directions: the request headers for a login, and what the response
 * headers mean. Existing auth services written for nginx work unchanged; beyond nginx, {@code Auth-Server} may be a
 * host name, and {@code Auth-Pool} may name a pool.
 */
final class NginxAuthProtocol {
    /** The longest wait an answer may ask for (Auth-Wait): the client holds a connection meanwhile. */
    static final Duration MAX_WAIT = Duration.ofSeconds(60);

    private NginxAuthProtocol() {}

    /**
     * What a response said.
     *
     * @param result the decision, or null when the service said WAIT
     * @param pause Auth-Wait (before asking again after WAIT, or before answering a failure)
     */
    record Answer(AuthResult result, Duration pause) {
        boolean isWait() {
            return result == null;
        }
    }

    /** Sets the headers nginx sends for {@code request} on its {@code attempt}th try. */
    static void requestHeaders(HttpHeaders h, AuthRequest request) {
        Credentials c = request.credentials();
        h.set("Auth-Method", method(c.mechanism()));
        h.set("Auth-User", escape(c.user()));
        h.set("Auth-Pass", escape(c.secret()));
        h.set("Auth-Protocol", request.protocol().configName());
        h.set("Auth-Login-Attempt", Integer.toString(Math.max(1, request.attempt())));
        if (request.client() != null && request.client().getAddress() != null) {
            h.set("Client-IP", request.client().getAddress().getHostAddress());
        }
        if (c.isExternal()) {
            // nginx sends no password for EXTERNAL; the certificate headers below are what the service decides on
            h.set("Auth-Pass", "");
        }
        if (request.secure()) {
            h.set("Auth-SSL", "on");
            h.set("Auth-SSL-Protocol", request.tlsProtocol());
            if (request.tlsCipher() != null) {
                h.set("Auth-SSL-Cipher", request.tlsCipher());
            }
            certificateHeaders(h, request.clientCertificate());
        }
        if (request.protocol() == Protocol.SMTP) {
            // as nginx without a resolver: Postern does not look client names up (it would wait on DNS per login)
            h.set("Client-Host", "[UNAVAILABLE]");
            h.set("Auth-SMTP-Helo", escape(nullToEmpty(request.smtpHelo())));
            h.set("Auth-SMTP-From", escape(nullToEmpty(request.smtpFrom())));
            h.set("Auth-SMTP-To", escape(nullToEmpty(request.smtpTo())));
        }
    }

    /**
     * nginx's client certificate headers ({@code ssl_verify_client}), for a verified certificate: {@code
     * Auth-SSL-Verify: SUCCESS} (one that fails verification fails the handshake here, so nginx's {@code
     * FAILED:reason} never occurs); DNs in RFC 2253 form, escaped like the other values; the serial in hex; the
     * fingerprint SHA-1, lower-case hex; the PEM in {@code Auth-SSL-Cert}, URL-escaped. Without a certificate none
     * is sent, so a listener without client certificates sends what it always sent.
     */
    private static void certificateHeaders(HttpHeaders h, ClientCertificate certificate) {
        if (certificate == null) {
            return;
        }
        h.set("Auth-SSL-Verify", ClientCertificate.VERIFIED);
        h.set("Auth-SSL-Subject", escape(certificate.subject()));
        h.set("Auth-SSL-Issuer", escape(certificate.issuer()));
        h.set("Auth-SSL-Serial", certificate.serial());
        h.set("Auth-SSL-Fingerprint", certificate.sha1());
        h.set("Auth-SSL-Cert", escape(certificate.pem()));
    }

    private static String method(SaslMechanism mechanism) {
        // nginx says "plain" for every password login (IMAP LOGIN, USER/PASS, AUTH PLAIN and LOGIN)
        return mechanism.isToken() || mechanism == SaslMechanism.EXTERNAL
                ? mechanism.wireName().toLowerCase(Locale.ROOT)
                : "plain";
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    /**
     * URL-escapes as nginx does for these headers (space, {@code %} and control characters), and also every byte of
     * a non-ASCII character, which HTTP header values cannot carry raw; a service that URL-decodes gets the same text.
     */
    static String escape(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length + 8);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c <= 0x20 || c == '%' || c >= 0x7f) {
                out.append('%')
                        .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            } else {
                out.append((char) c);
            }
        }
        return out.toString();
    }

    /**
     * Whether a response with {@code status} is an interim one (100 Continue, 103 Early Hints, any 1xx but 101), which
     * the final answer follows on the same connection: Netty's HTTP client codec reads on past it as HTTP, and HTTP
     * lets a client ignore it. Not 101 Switching Protocols: after it the connection speaks something else (Netty's
     * decoder passes the bytes that follow raw), so it is no answer and the connection is done.
     */
    static boolean isInterim(int status) {
        return status >= 100 && status < 200 && status != 101;
    }

    /**
     * Reads a response's headers. The HTTP status is ignored, as nginx does, except 1xx: an interim response or a
     * switch of protocols is no answer, whatever headers it carries. {@code Auth-Status} is what counts.
     *
     * @throws IOException when the response is not a usable answer (1xx, no Auth-Status, a bad port)
     */
    static Answer answer(HttpHeaders h, int status, AuthRequest request) throws IOException {
        if (status >= 100 && status < 200) {
            throw new IOException("auth service answered HTTP " + status + ", which is no answer");
        }
        String authStatus = h.get("Auth-Status");
        if (authStatus == null) {
            throw new IOException("auth service answered HTTP " + status + " without Auth-Status");
        }
        authStatus = authStatus.strip();
        Duration wait = wait(h.get("Auth-Wait"));
        if (authStatus.equals("WAIT")) {
            return new Answer(null, wait);
        }
        if (!authStatus.equals("OK")) {
            String code = h.get("Auth-Error-Code");
            boolean temporary = code != null && code.strip().startsWith("4");
            // the text is for the log only: the client gets the protocol's generic reply
            return new Answer(new AuthResult.Rejected(printable(authStatus), temporary, wait), wait);
        }
        Optional<AuthResult.RouteHint> route = Optional.empty();
        String server = h.get("Auth-Server");
        String pool = h.get("Auth-Pool");
        if (server != null && !server.isBlank()) {
            String port = h.get("Auth-Port");
            int p = 0;
            if (port != null && !port.isBlank()) {
                String digits = port.strip();
                if (!digits.matches("\\d{1,5}") || Integer.parseInt(digits) < 1 || Integer.parseInt(digits) > 65535) {
                    throw new IOException("auth service sent an invalid Auth-Port");
                }
                p = Integer.parseInt(digits);
            }
            String host = server.strip();
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty() || host.chars().anyMatch(ch -> ch <= 0x20 || ch >= 0x7f || ch == '/' || ch == '@')) {
                throw new IOException("auth service sent an invalid Auth-Server");
            }
            route = Optional.of(new AuthResult.RouteHint(null, host, p));
        } else if (pool != null && !pool.isBlank()) {
            route = Optional.of(new AuthResult.RouteHint(pool.strip(), null, 0));
        }
        Credentials c = request.credentials();
        String authUser = h.get("Auth-User");
        String authPass = h.get("Auth-Pass");
        String user = authUser != null && !authUser.isEmpty() ? authUser : c.user();
        Optional<Credentials> backend = Optional.empty();
        if (authPass != null) {
            SaslMechanism m = c.mechanism().isToken() || c.isExternal() ? SaslMechanism.PLAIN : c.mechanism();
            backend = Optional.of(Credentials.password(m, user, authPass));
        } else if (!user.equals(c.user())) {
            backend = Optional.of(new Credentials(c.mechanism(), c.authzid(), user, c.secret(), c.raw()));
        }
        return new Answer(new AuthResult.Accepted(user, route, backend), Duration.ZERO);
    }

    private static Duration wait(String header) {
        if (header == null || !header.strip().matches("\\d{1,9}")) {
            return Duration.ZERO;
        }
        Duration d = Duration.ofSeconds(Long.parseLong(header.strip()));
        return d.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : d;
    }

    private static String printable(String s) {
        String cut = s.length() > 200 ? s.substring(0, 200) : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
