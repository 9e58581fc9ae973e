package dev.postern.proxy.smtp;

import dev.postern.proxy.sasl.SaslMechanism;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What Postern offers in its EHLO reply: the extensions its backends really support, learned from their own EHLO
 * replies, minus those that belong to the hop between Postern and the backend ({@code AUTH}, {@code STARTTLS},
 * {@code XCLIENT}, {@code XFORWARD}), plus Postern's own STARTTLS and AUTH. Pure functions.
 */
public final class EhloKeywords {
    /** Keywords that describe the backend connection itself, never the client's. */
    private static final Set<String> HOP_BY_HOP = Set.of("AUTH", "STARTTLS", "XCLIENT", "XFORWARD");

    /** RFC 5321 ehlo-line: keyword, then parameters of printable characters. */
    private static final Pattern EHLO_LINE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]*([ =][\\x20-\\x7e]*)?");

    private EhloKeywords() {}

    /** The keyword of an EHLO line, upper-cased ({@code AUTH=LOGIN} counts as {@code AUTH}). */
    public static String keyword(String line) {
        int end = 0;
        while (end < line.length() && line.charAt(end) != ' ' && line.charAt(end) != '=') {
            end++;
        }
        return line.substring(0, end).toUpperCase(Locale.ROOT);
    }

    /** True when {@code lines} (a backend's EHLO keywords) list {@code keyword}. */
    public static boolean has(List<String> lines, String keyword) {
        for (String line : lines) {
            if (keyword(line).equals(keyword)) {
                return true;
            }
        }
        return false;
    }

    /** The parameters of {@code keyword}'s line ({@code AUTH PLAIN LOGIN} gives PLAIN and LOGIN), upper-cased. */
    public static List<String> parameters(List<String> lines, String keyword) {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            if (keyword(line).equals(keyword)) {
                String rest = line.substring(keyword.length()).trim();
                if (rest.startsWith("=")) {
                    rest = rest.substring(1);
                }
                for (String p : rest.split(" ")) {
                    if (!p.isEmpty()) {
                        out.add(p.toUpperCase(Locale.ROOT));
                    }
                }
            }
        }
        return out;
    }

    /** A backend's keyword lines that may be offered to clients as they are. */
    public static List<String> passThrough(List<String> backend) {
        List<String> out = new ArrayList<>(backend.size());
        for (String line : backend) {
            if (EHLO_LINE.matcher(line).matches() && !HOP_BY_HOP.contains(keyword(line))) {
                out.add(line);
            }
        }
        return out;
    }

    /**
     * The SASL mechanisms Postern offers: PLAIN and LOGIN always (it can log in on a backend with either), the token
     * mechanisms only when the backend offers them too, since their messages are relayed as they are.
     */
    public static List<SaslMechanism> mechanisms(List<String> backend) {
        List<String> backendMechanisms = parameters(backend, "AUTH");
        List<SaslMechanism> out = new ArrayList<>(List.of(SaslMechanism.PLAIN, SaslMechanism.LOGIN));
        for (SaslMechanism m : SaslMechanism.values()) {
            if (m.isToken() && backendMechanisms.contains(m.wireName())) {
                out.add(m);
            }
        }
        return out;
    }

    /**
     * The keyword lines of Postern's EHLO reply (after the greeting line).
     *
     * @param backend the pool's backend keywords (empty when nothing is known yet)
     * @param startTls offer STARTTLS
     * @param auth offer AUTH
     */
    public static List<String> offer(List<String> backend, boolean startTls, boolean auth) {
        return offer(backend, startTls, auth, false);
    }

    /**
     * Like {@link #offer(List, boolean, boolean)}; {@code external}: the TLS session has a verified client
     * certificate that names a user, and the AUTH line ends with EXTERNAL.
     */
    public static List<String> offer(List<String> backend, boolean startTls, boolean auth, boolean external) {
        List<String> out = passThrough(backend);
        if (startTls) {
            out.add("STARTTLS");
        }
        if (auth) {
            StringBuilder line = new StringBuilder("AUTH");
            for (SaslMechanism m : SaslMechanism.withExternal(mechanisms(backend), external)) {
                line.append(' ').append(m.wireName());
            }
            out.add(line.toString());
        }
        return out;
    }
}
