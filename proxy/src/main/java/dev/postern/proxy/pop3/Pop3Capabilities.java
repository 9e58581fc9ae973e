package dev.postern.proxy.pop3;

import dev.postern.proxy.sasl.SaslMechanism;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What Postern's CAPA lists (RFC 2449): the capabilities the pool's backends have after login, as learned from them,
 * plus what Postern itself offers before login. Pure functions; the session decides when credentials and STLS are
 * allowed.
 */
public final class Pop3Capabilities {
    /** Postern's mechanisms, in the order CAPA's SASL line and a bare {@code AUTH} list them. */
    public static final List<SaslMechanism> MECHANISMS =
            List.of(SaslMechanism.PLAIN, SaslMechanism.LOGIN, SaslMechanism.XOAUTH2, SaslMechanism.OAUTHBEARER);

    /** Most capability lines Postern keeps from one backend's list (a bound on what a backend can make it hold). */
    static final int MAX_LINES = 64;

    /** Most characters of one capability line kept (RFC 2449 lines are short; longer ones are dropped). */
    static final int MAX_LINE = 255;

    /**
     * Keywords that belong to the AUTHORIZATION state, which Postern answers itself: never passed on from a backend.
     */
    private static final Set<String> PRE_AUTH =
            Set.of("STLS", "STARTTLS", "USER", "SASL", "XCLIENT", "IMPLEMENTATION", "APOP");

    private Pop3Capabilities() {}

    /** The keyword of a capability line, upper case. */
    static String keyword(String line) {
        int space = line.indexOf(' ');
        return (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
    }

    /**
     * What a backend's CAPA list says it offers after login: its lines without the AUTHORIZATION-state ones, bounded
     * in number and length.
     */
    public static List<String> afterLogin(List<String> backendLines) {
        List<String> kept = new ArrayList<>();
        for (String line : backendLines) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.length() > MAX_LINE || PRE_AUTH.contains(keyword(trimmed))) {
                continue;
            }
            kept.add(trimmed);
            if (kept.size() == MAX_LINES) {
                break;
            }
        }
        return kept;
    }

    /** The SASL line's mechanism names; EXTERNAL last when {@code external}. */
    public static String mechanismNames(boolean external) {
        StringBuilder sb = new StringBuilder();
        for (SaslMechanism m : SaslMechanism.withExternal(MECHANISMS, external)) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(m.wireName());
        }
        return sb.toString();
    }

    /**
     * The lines of Postern's CAPA reply between {@code +OK} and {@code .}: the backend's after-login capabilities,
     * then Postern's own, each keyword once.
     *
     * @param backend what the pool's backends offer after login (already filtered by {@link #afterLogin}), empty when
     *     nothing is known yet
     * @param credentialsAllowed whether USER and AUTH may be used now
     * @param canStartTls whether STLS may be used now
     */
    public static List<String> advertised(List<String> backend, boolean credentialsAllowed, boolean canStartTls) {
        return advertised(backend, credentialsAllowed, canStartTls, false);
    }

    /**
     * Like {@link #advertised(List, boolean, boolean)}; {@code external}: the TLS session has a verified client
     * certificate that names a user, and the SASL line ends with EXTERNAL.
     */
    public static List<String> advertised(
            List<String> backend, boolean credentialsAllowed, boolean canStartTls, boolean external) {
        Map<String, String> byKeyword = new LinkedHashMap<>();
        for (String line : backend) {
            byKeyword.putIfAbsent(keyword(line), line);
        }
        if (credentialsAllowed) {
            byKeyword.put("USER", "USER");
            byKeyword.put("SASL", "SASL " + mechanismNames(external));
        }
        if (canStartTls) {
            byKeyword.put("STLS", "STLS");
        }
        byKeyword.putIfAbsent("RESP-CODES", "RESP-CODES");
        byKeyword.putIfAbsent("AUTH-RESP-CODE", "AUTH-RESP-CODE");
        byKeyword.put("IMPLEMENTATION", "IMPLEMENTATION Postern");
        return List.copyOf(byKeyword.values());
    }
}
