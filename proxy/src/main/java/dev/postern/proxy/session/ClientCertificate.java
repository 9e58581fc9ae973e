package dev.postern.proxy.session;

import java.util.Objects;
import java.util.Optional;

/**
 * The client certificate a TLS handshake verified, in the forms nginx's mail module gives an auth service (its
 * {@code Auth-SSL-*} headers). Only a verified certificate is ever recorded: one that does not verify fails the
 * handshake.
 *
 * @param subject the subject DN, RFC 2253 ({@code CN=alice,O=Example})
 * @param issuer the issuer DN, RFC 2253
 * @param serial the serial number in upper-case hex, as nginx prints it
 * @param sha1 the SHA-1 fingerprint of the DER certificate, lower-case hex without separators (nginx's
 *     {@code Auth-SSL-Fingerprint})
 * @param sha256 the SHA-256 fingerprint, lower-case hex
 * @param user the user the listener's {@code user-from} fields name, if one of them is present
 * @param pem the certificate in PEM, for {@code Auth-SSL-Cert}
 */
public record ClientCertificate(
        String subject, String issuer, String serial, String sha1, String sha256, Optional<String> user, String pem) {

    /** nginx's {@code Auth-SSL-Verify} value of a verified certificate. */
    public static final String VERIFIED = "SUCCESS";

    public ClientCertificate {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(serial, "serial");
        Objects.requireNonNull(sha1, "sha1");
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(pem, "pem");
    }

    @Override
    public String toString() {
        return "ClientCertificate[" + subject + ", issuer=" + issuer + ", serial=" + serial + "]";
    }
}
