package dev.postern.proxy.frontend;

import dev.postern.proxy.relay.Relay;
import dev.postern.proxy.session.Session;
import io.netty.channel.ChannelPipeline;
import java.util.List;

/**
 * The phase boundary: after a successful backend login, the protocol handlers leave both channels and the relay
 * takes over. Order matters: the relay goes in first, then the decoders leave, so whatever they still buffer (a
 * client's commands pipelined after LOGIN, a backend's bytes after its OK) flows through the relay, not into a
 * protocol handler.
 */
public final class Handover {
    private Handover() {}

    /**
     * Splices the session. Run on the session's event loop after the success reply was written to the client.
     *
     * @param clientHandlers names of the client pipeline's protocol handlers, session handler first, decoder last
     * @param backendHandlers names of the backend pipeline's dialogue handlers, decoder last
     */
    public static void toRelay(Session session, List<String> clientHandlers, List<String> backendHandlers) {
        ChannelPipeline client = session.client().pipeline();
        ChannelPipeline backend = session.backend().pipeline();
        // handlers above the decoders go first, so a decoder's leftover bytes cannot reach them
        removeAllButLast(client, clientHandlers);
        removeAllButLast(backend, backendHandlers);
        Relay.splice(session, List.of());
        removeLast(client, clientHandlers);
        removeLast(backend, backendHandlers);
    }

    private static void removeAllButLast(ChannelPipeline pipeline, List<String> names) {
        for (int i = 0; i < names.size() - 1; i++) {
            if (pipeline.get(names.get(i)) != null) {
                pipeline.remove(names.get(i));
            }
        }
    }

    private static void removeLast(ChannelPipeline pipeline, List<String> names) {
        if (!names.isEmpty() && pipeline.get(names.get(names.size() - 1)) != null) {
            pipeline.remove(names.get(names.size() - 1));
        }
    }
}
