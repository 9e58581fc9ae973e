package dev.postern.proxy.imap;

import dev.postern.proxy.sasl.SaslMechanism;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The capabilities Postern announces itself, before login, and the filter for what the backend announces after.
 * Before login they are Postern's own (it implements the pre-auth commands); after login the backend's list is what
 * the client talks to.
 */
public final class ImapCapabilities {
    private ImapCapabilities() {}

    /**
     * The capability list before login.
     *
     * @param startTls STARTTLS may be used now
     * @param credentialsAllowed credentials may be sent now (TLS is on, or the listener allows plaintext)
     */
    public static String preAuth(boolean startTls, boolean credentialsAllowed) {
        return preAuth(startTls, credentialsAllowed, false);
    }

    /**
     * The capability list before login.
     *
     * @param startTls STARTTLS may be used now
     * @param credentialsAllowed credentials may be sent now (TLS is on, or the listener allows plaintext)
     * @param external the TLS session has a verified client certificate that names a user: {@code AUTH=EXTERNAL}
     */
    public static String preAuth(boolean startTls, boolean credentialsAllowed, boolean external) {
        StringBuilder sb = new StringBuilder("IMAP4rev1 SASL-IR LITERAL+ ID");
        if (startTls) {
            sb.append(" STARTTLS");
        }
        if (credentialsAllowed) {
            for (SaslMechanism m : SaslMechanism.withExternal(SaslMechanism.PASSWORD_AND_TOKEN, external)) {
                sb.append(" AUTH=").append(m.wireName());
            }
        } else {
            sb.append(" LOGINDISABLED");
        }
        return sb.toString();
    }

    /**
     * The backend's post-login capabilities as the client gets them: without what would be untrue through the proxy
     * ({@code STARTTLS} and {@code LOGINDISABLED} describe the backend connection, not the client's).
     */
    public static String afterLogin(List<String> backend) {
        List<String> kept = new ArrayList<>(backend.size());
        for (String c : backend) {
            String upper = c.toUpperCase(Locale.ROOT);
            if (!upper.equals("STARTTLS") && !upper.equals("LOGINDISABLED")) {
                kept.add(c);
            }
        }
        return String.join(" ", kept);
    }

    /** Splits a capability list ({@code IMAP4rev1 IDLE ...}) into its words. */
    public static List<String> parse(String list) {
        // by hand, not split(" +"): a regular expression per backend login was 1.5 % of an IMAPS login's CPU
        List<String> out = new ArrayList<>(24);
        int n = list.length();
        int i = 0;
        while (i < n) {
            while (i < n && list.charAt(i) <= ' ') {
                i++;
            }
            int start = i;
            while (i < n && list.charAt(i) > ' ') {
                i++;
            }
            if (i > start) {
                out.add(list.substring(start, i));
            }
        }
        return out;
    }

    /** Whether {@code capabilities} holds {@code name}, case-insensitively. */
    public static boolean has(List<String> capabilities, String name) {
        for (String c : capabilities) {
            if (c.equalsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }
}
