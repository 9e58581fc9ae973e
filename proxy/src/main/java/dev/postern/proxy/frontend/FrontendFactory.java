package dev.postern.proxy.frontend;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.codec.CommandDecoder;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.channel.Channel;

/** How a protocol's front end joins a listener's pipeline, and learns what its pools' backends support. */
public interface FrontendFactory {
    /**
     * Adds the front end's handlers at the end of a new client pipeline: a {@link CommandDecoder} named {@link
     * PreAuthHandler#DECODER}, then the {@link PreAuthHandler} named {@link HandlerNames#SESSION}.
     */
    void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow);

    /** Adds {@code decoder} and {@code session} at the end of {@code client}'s pipeline, as {@link #install} says. */
    static void addPreAuthHandlers(Channel client, CommandDecoder decoder, PreAuthHandler<?> session) {
        client.pipeline().addLast(HandlerNames.DECODER, decoder).addLast(HandlerNames.SESSION, session);
    }

    /**
     * Starts learning (asynchronously, on an event loop) what the backends of {@code pool} support for this protocol,
     * into {@link ProxyServices#capabilities()}. Called at start for every pool a listener of this protocol uses.
     */
    default void probe(ProxyServices services, PoolRuntime pool) {}
}
