package dev.postern.proxy.auth;

import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchResultEntry;
import dev.postern.config.LdapConfig;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import java.util.Optional;

/** What the {@code ldap} provider makes of the directory's answers: refusals, and an entry's attributes. */
final class LdapAnswer {
    private LdapAnswer() {}

    /**
     * A user bind's outcome.
     *
     * @param refusal why the directory said no, or null when the bind succeeded
     * @param entry the user's entry as the user read it, or null
     */
    record Bind(String refusal, SearchResultEntry entry) {}

    /**
     * Why a bind that failed with {@code code} is the user's failure (a refusal), or null when it is the directory's
     * (temporary). OpenLDAP answers an unknown DN with invalid credentials too, so the two look alike, as they should.
     */
    static String refusal(ResultCode code) {
        if (code == ResultCode.INVALID_CREDENTIALS) {
            return "wrong password or unknown user";
        }
        if (code == ResultCode.INAPPROPRIATE_AUTHENTICATION
                || code == ResultCode.INVALID_DN_SYNTAX
                || code == ResultCode.CONSTRAINT_VIOLATION
                || code == ResultCode.UNWILLING_TO_PERFORM
                || code == ResultCode.INSUFFICIENT_ACCESS_RIGHTS) {
            // no password, a name that is no DN, a locked account (password policy), a disabled account
            return "bind refused: " + code.getName();
        }
        return null;
    }

    /** The accepted answer, with the route and backend login that {@code entry}'s attributes name. */
    static AuthResult.Accepted accepted(LdapConfig config, Credentials client, SearchResultEntry entry) {
        LdapConfig.Attributes a = config.attributes();
        String pool = value(entry, a.pool());
        String host = value(entry, a.host());
        String portText = value(entry, a.port());
        int port = 0;
        if (host != null && portText != null) {
            try {
                port = Integer.parseInt(portText.trim());
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                port = 0; // the pool's port for the protocol, as for an Auth-Server without Auth-Port
            }
        }
        Optional<AuthResult.RouteHint> route = pool == null && host == null
                ? Optional.empty()
                : Optional.of(new AuthResult.RouteHint(pool, host, port));
        String backendUser = Optional.ofNullable(value(entry, a.user())).orElse(client.user());
        String master = value(entry, a.master());
        Optional<Credentials> backend;
        if (master != null) {
            // a Dovecot master user: PLAIN with the user as authorization identity, authenticated as the master
            backend = Optional.of(new Credentials(
                    SaslMechanism.PLAIN,
                    backendUser,
                    master,
                    config.masterPassword().orElseThrow().reveal(),
                    null));
        } else if (!backendUser.equals(client.user())) {
            backend = Optional.of(new Credentials(client.mechanism(), "", backendUser, client.secret(), null));
        } else {
            backend = Optional.empty();
        }
        return new AuthResult.Accepted(client.user(), route, backend);
    }

    private static String value(SearchResultEntry entry, Optional<String> attribute) {
        if (entry == null || attribute.isEmpty()) {
            return null;
        }
        String v = entry.getAttributeValue(attribute.get());
        return v == null || v.isBlank() ? null : v;
    }
}
