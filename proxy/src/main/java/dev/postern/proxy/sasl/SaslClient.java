package dev.postern.proxy.sasl;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Encodes what Postern sends when it logs in on a backend. */
public final class SaslClient {
    private SaslClient() {}

    /** PLAIN initial response: {@code authzid NUL authcid NUL password}, base64. */
    public static String plain(String authzid, String authcid, String password) {
        String message = (authzid == null ? "" : authzid) + '\0' + authcid + '\0' + password;
        return Base64.getEncoder().encodeToString(message.getBytes(StandardCharsets.UTF_8));
    }

    /** One LOGIN mechanism answer (user name or password), base64. */
    public static String login(String value) {
        return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
    }

    /** The client's own token message, unchanged, base64 (XOAUTH2, OAUTHBEARER). */
    public static String token(Credentials credentials) {
        if (!credentials.isToken() || credentials.raw() == null) {
            throw new IllegalArgumentException("not a token credential: " + credentials.mechanism());
        }
        return Base64.getEncoder().encodeToString(credentials.raw());
    }
}
