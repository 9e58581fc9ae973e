package dev.postern.proxy.sasl;

import java.util.Locale;
import java.util.Optional;

/** The SASL mechanisms Postern speaks with clients and backends. */
public enum SaslMechanism {
    /** RFC 4616: authzid NUL authcid NUL password. */
    PLAIN("PLAIN", false),
    /** The de-facto LOGIN mechanism: user name and password in two challenges. */
    LOGIN("LOGIN", false),
    /** Google's and Microsoft's OAuth 2.0 bearer framing. */
    XOAUTH2("XOAUTH2", true),
    /** RFC 7628 OAuth 2.0 bearer tokens. */
    OAUTHBEARER("OAUTHBEARER", true);

    private final String wireName;
    private final boolean token;

    SaslMechanism(String wireName, boolean token) {
        this.wireName = wireName;
        this.token = token;
    }

    /** The name as it appears on the wire ({@code AUTH=PLAIN}, {@code AUTHENTICATE XOAUTH2}). */
    public String wireName() {
        return wireName;
    }

    /** True for the OAuth mechanisms: the secret is a bearer token, relayed as is. */
    public boolean isToken() {
        return token;
    }

    /** Case-insensitive lookup; empty for mechanisms Postern does not offer. */
    public static Optional<SaslMechanism> parse(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        for (SaslMechanism m : values()) {
            if (m.wireName.equals(upper)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }
}
