package dev.postern.proxy.smtp.edge;

import dev.postern.config.Protocol;
import dev.postern.config.Routes;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.routing.Routing;
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

    /**
     * The router of the live routing table: routes as they are now (the admin API changes them), to pools that exist
     * and have an SMTP port.
     */
    static RecipientRouter of(Routing routing) {
        return recipient -> routing.table()
                .routes()
                .match(recipient)
                .map(Routes.Match::pool)
                .filter(name -> {
                    PoolRuntime pool = routing.pools().get(name);
                    return pool != null && pool.serves(Protocol.SMTP);
                });
    }
}
