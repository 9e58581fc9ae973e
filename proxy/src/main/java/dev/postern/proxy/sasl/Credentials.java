package dev.postern.proxy.sasl;

import java.util.Objects;

/**
 * What a client presented to log in. The secret is a password, or a bearer token for the OAuth mechanisms; {@link
 * #toString()} never shows it.
 *
 * @param mechanism how it was presented ({@code LOGIN} for IMAP LOGIN and POP3 USER/PASS)
 * @param authzid the identity to act as, or empty (SASL PLAIN's first field)
 * @param user the authentication identity
 * @param secret the password or token
 * @param raw for token mechanisms, the client's whole decoded SASL message, relayed to the backend unchanged
 */
public record Credentials(SaslMechanism mechanism, String authzid, String user, String secret, byte[] raw) {

    public Credentials {
        Objects.requireNonNull(mechanism, "mechanism");
        authzid = authzid == null ? "" : authzid;
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(secret, "secret");
    }

    /** A user name and password (IMAP LOGIN, POP3 USER/PASS, SASL PLAIN/LOGIN without authzid). */
    public static Credentials password(SaslMechanism mechanism, String user, String password) {
        return new Credentials(mechanism, "", user, password, null);
    }

    /**
     * A login by TLS client certificate (SASL EXTERNAL): {@code user} is the certificate's, {@code authzid} what the
     * client asked to act as (empty: the user itself), and the secret the certificate's SHA-256 fingerprint, so that
     * a cached answer holds for that certificate only. Nothing here can be relayed to a backend as a password.
     */
    public static Credentials external(String authzid, String user, String certificateSha256) {
        return new Credentials(SaslMechanism.EXTERNAL, authzid, user, certificateSha256, null);
    }

    /** True for a login by TLS client certificate. */
    public boolean isExternal() {
        return mechanism == SaslMechanism.EXTERNAL;
    }

    public boolean isToken() {
        return mechanism.isToken();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Credentials c
                && mechanism == c.mechanism
                && authzid.equals(c.authzid)
                && user.equals(c.user)
                && java.security.MessageDigest.isEqual(
                        secret.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        c.secret.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public int hashCode() {
        return Objects.hash(mechanism, authzid, user);
    }

    @Override
    public String toString() {
        return "Credentials[" + mechanism + ", user=" + user + (authzid.isEmpty() ? "" : ", authzid=" + authzid)
                + ", secret=***]";
    }
}
