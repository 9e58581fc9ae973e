package dev.postern.proxy.smtp.edge;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.Cidr;
import dev.postern.config.ListenerConfig;
import dev.postern.config.SmtpConfig;
import dev.postern.proxy.smtp.MailPath;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * What every session of one edge listener shares: its policy, the recipient router, the DNS-based checks, the
 * per-client limits and the memory of clients that passed the tests. Thread-safe.
 */
final class Edge {
    final ListenerConfig listener;
    final SmtpConfig smtp;
    final String hostname;
    final RecipientRouter router;
    final ClientReputation reputation;
    final SenderPolicy senders;
    final ClientLimits limits;
    final PassedClients passed;

    Edge(
            ListenerConfig listener,
            String hostname,
            RecipientRouter router,
            ClientReputation reputation,
            SenderPolicy senders,
            Ticker ticker,
            SharedPassedClients shared) {
        this.listener = listener;
        this.smtp = listener.smtp();
        this.hostname = hostname;
        this.router = router;
        this.reputation = reputation;
        this.senders = senders;
        this.limits = new ClientLimits(smtp.limits(), ticker);
        this.passed = new PassedClients(listener.name(), smtp.passedCache(), ticker, shared);
    }

    /** Clients in trusted-networks: they may relay anywhere and skip the tests. */
    boolean trusted(InetAddress client) {
        return in(smtp.trustedNetworks(), client);
    }

    /** Clients in the allowlist: they skip the tests. */
    boolean allowlisted(InetAddress client) {
        return in(smtp.allowlist(), client);
    }

    private static boolean in(List<Cidr> networks, InetAddress client) {
        for (Cidr c : networks) {
            if (c.contains(client)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The pool for a recipient: the one a route names, else the listener's pool for the local domains, else (for a
     * trusted client only) the listener's pool for any domain; empty means relay access denied.
     */
    Optional<String> route(MailPath recipient, boolean trustedClient) {
        if (recipient.domain().isEmpty()) {
            // <postmaster> (RFC 5321, section 4.5.1): the listener's own
            return listener.pool();
        }
        Optional<String> routed = router.poolFor(recipient.address());
        if (routed.isPresent()) {
            return routed;
        }
        if (smtp.localDomains().contains(recipient.lowerDomain()) || trustedClient) {
            return listener.pool();
        }
        return Optional.empty();
    }
}
