package dev.postern.proxy.frontend;

import dev.postern.config.PosternConfig;
import dev.postern.config.Protocol;
import dev.postern.config.Routes;
import dev.postern.proxy.smtp.SmtpFrontend;
import java.util.Optional;

/** The front end of each protocol. */
public final class Frontends {
    private Frontends() {}

    /** The front end for {@code protocol}, or empty when this build has none (tcp listeners have their own). */
    public static Optional<FrontendFactory> forProtocol(Protocol protocol) {
        return forProtocol(protocol, Routes.NONE);
    }

    /** The front end for {@code protocol} of a Postern running {@code config} (the SMTP relay routes by it). */
    public static Optional<FrontendFactory> forProtocol(Protocol protocol, PosternConfig config) {
        return forProtocol(protocol, config.routes());
    }

    private static Optional<FrontendFactory> forProtocol(Protocol protocol, Routes routes) {
        switch (protocol) {
            case IMAP:
                return Optional.of(new dev.postern.proxy.imap.ImapFrontend());

            case POP3:
                return Optional.of(new dev.postern.proxy.pop3.Pop3Frontend());

            case SMTP:
                return Optional.of(
                        new SmtpFrontend(SmtpFrontend.machineHostName(), SmtpFrontend.RelayChecks.of(routes)));

            default:
                return Optional.empty();
        }
    }
}
