package dev.postern.proxy.auth;

import dev.postern.config.Protocol;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.session.ClientCertificate;
import java.net.InetSocketAddress;

/**
 * One login attempt, with what an auth service may want to know about it (nginx's auth_http sends the same).
 *
 * @param credentials what the client presented
 * @param protocol imap, pop3 or smtp
 * @param listener the listener's name
 * @param client the client's address
 * @param local the address the client connected to
 * @param tlsProtocol the client connection's TLS version, or null without TLS
 * @param tlsCipher the client connection's cipher, or null
 * @param attempt 1 for the first login attempt on this connection, 2 for the second, ...
 * @param sessionId the session's id, for logs
 * @param smtpHelo the SMTP client's EHLO/HELO name, or null
 * @param smtpFrom the SMTP envelope sender (MAIL FROM), or null; empty for submission, where AUTH comes before MAIL
 *     (as with nginx)
 * @param smtpTo the SMTP envelope recipients (RCPT TO) so far, or null
 * @param clientCertificate the client certificate the TLS handshake verified, or null; with SASL EXTERNAL it is
 *     what the login rests on, and auth_http gets it as nginx's {@code Auth-SSL-*} headers either way
 */
public record AuthRequest(
        Credentials credentials,
        Protocol protocol,
        String listener,
        InetSocketAddress client,
        InetSocketAddress local,
        String tlsProtocol,
        String tlsCipher,
        int attempt,
        String sessionId,
        String smtpHelo,
        String smtpFrom,
        String smtpTo,
        ClientCertificate clientCertificate) {

    /** A login attempt without a client certificate. */
    public AuthRequest(
            Credentials credentials,
            Protocol protocol,
            String listener,
            InetSocketAddress client,
            InetSocketAddress local,
            String tlsProtocol,
            String tlsCipher,
            int attempt,
            String sessionId,
            String smtpHelo,
            String smtpFrom,
            String smtpTo) {
        this(
                credentials,
                protocol,
                listener,
                client,
                local,
                tlsProtocol,
                tlsCipher,
                attempt,
                sessionId,
                smtpHelo,
                smtpFrom,
                smtpTo,
                null);
    }

    /** A login attempt without SMTP envelope fields. */
    public AuthRequest(
            Credentials credentials,
            Protocol protocol,
            String listener,
            InetSocketAddress client,
            InetSocketAddress local,
            String tlsProtocol,
            String tlsCipher,
            int attempt,
            String sessionId,
            String smtpHelo) {
        this(
                credentials,
                protocol,
                listener,
                client,
                local,
                tlsProtocol,
                tlsCipher,
                attempt,
                sessionId,
                smtpHelo,
                null,
                null,
                null);
    }

    public boolean secure() {
        return tlsProtocol != null;
    }
}
