package dev.postern.proxy.managesieve;

import dev.postern.proxy.codec.QuotedStrings;
import dev.postern.proxy.sasl.SaslMechanism;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What Postern's capability response lists (RFC 5804 section 1.7): its own pre-authentication capabilities
 * (IMPLEMENTATION, SASL, STARTTLS, VERSION) and what the pool's backends offer their users (SIEVE with the Sieve
 * extensions, NOTIFY, MAXREDIRECTS, LANGUAGE ...), as learned from them. Pure functions; lines are kept as the
 * backend wrote them.
 */
final class ManageSieveCapabilities {
    /** Postern's mechanisms, in the order the SASL capability lists them. */
    static final List<SaslMechanism> MECHANISMS = SaslMechanism.PASSWORD_AND_TOKEN;

    /** Most capability lines kept from one backend (a bound on what a backend can make Postern hold). */
    static final int MAX_LINES = 64;

    /** Most characters of one kept capability line (Dovecot's SIEVE line is some 400). */
    static final int MAX_LINE = 4096;

    /**
     * What Postern answers itself, or must not pass on: the backend's SASL, STARTTLS and XCLIENT are between Postern
     * and the backend; OWNER names the logged-in user; UNAUTHENTICATE would let a client log in again on the backend
     * behind Postern's back.
     */
    private static final Set<String> OWN =
            Set.of("IMPLEMENTATION", "SASL", "STARTTLS", "XCLIENT", "VERSION", "OWNER", "UNAUTHENTICATE");

    private ManageSieveCapabilities() {}

    /** The capability name of a line ({@code "SIEVE" "..."} gives {@code SIEVE}), upper case; empty if none. */
    static String name(String line) {
        SieveReply reply = SieveReply.parse(line);
        return reply.status().isEmpty() && !reply.strings().isEmpty()
                ? reply.strings().get(0).toUpperCase(Locale.ROOT)
                : "";
    }

    /** The lines of a backend's capability response worth showing to clients: bounded, without Postern's own. */
    static List<String> fromBackend(List<String> lines) {
        List<String> kept = new ArrayList<>();
        for (String line : lines) {
            String name = name(line);
            if (name.isEmpty() || OWN.contains(name) || line.length() > MAX_LINE) {
                continue;
            }
            kept.add(line);
            if (kept.size() == MAX_LINES) {
                break;
            }
        }
        return List.copyOf(kept);
    }

    /**
     * Postern's capability response, without its final {@code OK}.
     *
     * @param backend the pool's backend lines ({@link #fromBackend}), empty when nothing is known yet
     * @param credentialsAllowed whether AUTHENTICATE may be used now (else the SASL list is empty)
     * @param canStartTls whether STARTTLS is offered now
     * @param external whether EXTERNAL is offered (a verified client certificate names a user)
     */
    static List<String> advertised(
            List<String> backend, boolean credentialsAllowed, boolean canStartTls, boolean external) {
        List<String> out = new ArrayList<>();
        out.add("\"IMPLEMENTATION\" \"Postern\"");
        StringBuilder sasl = new StringBuilder();
        if (credentialsAllowed) {
            for (SaslMechanism m : SaslMechanism.withExternal(MECHANISMS, external)) {
                sasl.append(sasl.length() == 0 ? "" : " ").append(m.wireName());
            }
        }
        out.add("\"SASL\" " + QuotedStrings.quote(sasl.toString()));
        boolean sieve = false;
        for (String line : backend) {
            sieve |= name(line).equals("SIEVE");
            out.add(line);
        }
        if (!sieve) {
            // required by RFC 5804; empty until a backend told what it supports
            out.add("\"SIEVE\" \"\"");
        }
        if (canStartTls) {
            out.add("\"STARTTLS\"");
        }
        out.add("\"VERSION\" \"1.0\"");
        return out;
    }
}
