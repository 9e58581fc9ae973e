package dev.postern.proxy.sasl;

import java.util.ArrayList;
import java.util.List;
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
    OAUTHBEARER("OAUTHBEARER", true),
    /**
     * RFC 4422 appendix A: the TLS client certificate says who the user is; the message is the authzid (empty: the
     * certificate's user). Offered only on a connection with a verified certificate that names a user.
     */
    EXTERNAL("EXTERNAL", false);

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

    /** The mechanisms offered to every client that may send credentials (all but {@link #EXTERNAL}). */
    public static final List<SaslMechanism> PASSWORD_AND_TOKEN = List.of(PLAIN, LOGIN, XOAUTH2, OAUTHBEARER);

    /** {@code mechanisms}, with {@link #EXTERNAL} at the end when {@code external}. */
    public static List<SaslMechanism> withExternal(List<SaslMechanism> mechanisms, boolean external) {
        if (!external) {
            return mechanisms;
        }
        List<SaslMechanism> out = new ArrayList<>(mechanisms);
        out.add(EXTERNAL);
        return List.copyOf(out);
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
