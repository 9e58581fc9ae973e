package dev.postern.proxy.smtp;

import dev.postern.config.Routes;
import java.util.Optional;

/**
 * Which pool takes mail for a recipient, as the routing table knows it: a user route or a domain route (exact or
 * wildcard). The default route is deliberately not consulted: a domain counts as local only when something names it,
 * otherwise every domain would be local and the relay open.
 */
@FunctionalInterface
public interface RecipientRouter {
    /** A router that knows no recipient (only the listener's local-domains are local then). */
    RecipientRouter NONE = recipient -> Optional.empty();

    /**
     * The pool for {@code recipient} ({@code local@domain}, domain lowercase), if a user or domain route names it.
     */
    Optional<String> poolFor(String recipient);

    /** The router of a static routing table. */
    static RecipientRouter of(Routes routes) {
        return recipient -> routes.match(recipient).map(Routes.Match::pool);
    }
}
