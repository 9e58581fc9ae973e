package dev.postern.proxy.frontend;

import dev.postern.config.Protocol;
import java.util.Optional;

/** The front end of each protocol. */
public final class Frontends {
    private Frontends() {}

    /** The front end for {@code protocol}, or empty when this build has none (tcp listeners have their own). */
    public static Optional<FrontendFactory> forProtocol(Protocol protocol) {
        switch (protocol) {
            case IMAP:
                return Optional.of(new dev.postern.proxy.imap.ImapFrontend());

            case POP3:
                return Optional.empty();

            case SMTP:
                return Optional.empty();

            default:
                return Optional.empty();
        }
    }
}
