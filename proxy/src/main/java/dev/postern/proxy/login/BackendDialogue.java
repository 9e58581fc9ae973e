package dev.postern.proxy.login;

import dev.postern.proxy.session.Session;
import io.netty.channel.ChannelHandler;
import io.netty.util.concurrent.Promise;
import java.util.List;

/**
 * A protocol's login dialogue with a backend: greeting, optional STARTTLS, client identity (ID, XCLIENT), login.
 * The handler it makes is the backend channel's initializer; it completes {@code result} exactly once and, on
 * success, leaves in the backend pipeline only handlers whose names {@link #handlerNames()} lists (so the handover
 * can remove them; a removed decoder passes any bytes it still holds on to the relay).
 */
public interface BackendDialogue {
    ChannelHandler newHandler(Session session, BackendLoginRequest request, Promise<BackendLoginResult> result);

    /**
     * Names of the handlers the dialogue leaves on the backend channel, decoder last: by default those of a {@link
     * BackendDialogueHandler}.
     */
    default List<String> handlerNames() {
        return BackendDialogueHandler.HANDLER_NAMES;
    }
}
