package dev.postern.proxy.dns;

import dev.postern.config.SpfConfig;
import java.net.InetAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of one SPF check.
 *
 * @param verdict the result
 * @param identity which identity was checked
 * @param domain the domain whose policy was evaluated (the MAIL FROM domain, or the HELO name)
 * @param sender the sender as checked: the MAIL FROM address, or {@code postmaster@<helo>} for the HELO identity
 * @param mailFrom the MAIL FROM address as the client gave it; empty for the null reverse path
 * @param helo the HELO/EHLO name as the client gave it
 * @param clientIp the client's address
 * @param mechanism the mechanism that decided ({@code ip4:192.0.2.0/24}, {@code -all}, {@code default} when none
 *     matched), when one did
 * @param problem what went wrong, for {@code temperror} and {@code permerror} (and {@code none} with a bad domain)
 */
public record SpfResult(
        SpfVerdict verdict,
        Identity identity,
        String domain,
        String sender,
        String mailFrom,
        String helo,
        InetAddress clientIp,
        Optional<String> mechanism,
        Optional<String> problem) {

    public SpfResult {
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(mailFrom, "mailFrom");
        Objects.requireNonNull(helo, "helo");
        Objects.requireNonNull(clientIp, "clientIp");
        Objects.requireNonNull(mechanism, "mechanism");
        Objects.requireNonNull(problem, "problem");
    }

    /** The identity an SPF check is about (RFC 7208 section 2.2, 2.4). */
    public enum Identity {
        MAILFROM,
        HELO
    }

    /** Whether the session refuses the sender under {@code policy}: {@code fail} under {@code reject}. */
    public boolean rejectedBy(SpfConfig.Policy policy) {
        return policy == SpfConfig.Policy.REJECT && verdict == SpfVerdict.FAIL;
    }

    /** The {@code Received-SPF} header for this result; {@code receiver} names this host in its comment. */
    public String receivedSpf(String receiver) {
        return ReceivedSpf.header(this, receiver);
    }
}
