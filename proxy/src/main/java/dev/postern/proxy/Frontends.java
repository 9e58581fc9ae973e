package dev.postern.proxy;

import dev.postern.config.Protocol;
import dev.postern.proxy.dns.DnsClient;
import dev.postern.proxy.frontend.FrontendFactory;
import dev.postern.proxy.lmtp.LmtpFrontend;
import dev.postern.proxy.smtp.edge.SharedPassedClients;
import java.util.Optional;

/** The front end of each protocol. */
public final class Frontends {
    private Frontends() {}

    /** The front end for {@code protocol}, or empty when this build has none (tcp listeners have their own). */
    public static Optional<FrontendFactory> forProtocol(Protocol protocol) {
        return forProtocol(protocol, null);
    }

    /**
     * The front end for {@code protocol} of a running Postern, whose SMTP relay listeners ask their DNS lists and SPF
     * through {@code dns} (null when none of them needs DNS).
     */
    public static Optional<FrontendFactory> forProtocol(Protocol protocol, DnsClient dns) {
        return forProtocol(protocol, dns, SharedPassedClients.NONE);
    }

    /** The same, for a node of a cluster whose relay listeners remember passed clients in {@code passed}. */
    public static Optional<FrontendFactory> forProtocol(Protocol protocol, DnsClient dns, SharedPassedClients passed) {
        switch (protocol) {
            case IMAP:
                return Optional.of(new dev.postern.proxy.imap.ImapFrontend());

            case POP3:
                return Optional.of(new dev.postern.proxy.pop3.Pop3Frontend());

            case MANAGESIEVE:
                return Optional.of(new dev.postern.proxy.managesieve.ManageSieveFrontend());

            case SMTP:
                return Optional.of(new SmtpFrontend(dns, passed));

            case LMTP:
                return Optional.of(new LmtpFrontend(SmtpFrontend.machineHostName()));

            default:
                return Optional.empty();
        }
    }
}
