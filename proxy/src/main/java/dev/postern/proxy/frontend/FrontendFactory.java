package dev.postern.proxy.frontend;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import io.netty.channel.Channel;

/** How a protocol's front end joins a listener's pipeline, and learns what its pools' backends support. */
public interface FrontendFactory {
    /**
     * Adds the front end's handlers at the end of a new client pipeline: a {@link CommandDecoder} named {@link
     * PreAuthHandler#DECODER}, then the {@link PreAuthHandler} named {@link HandlerNames#SESSION}.
     */
    void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow);

    /**
     * Starts learning (asynchronously, on an event loop) what the backends of {@code pool} support for this protocol,
     * into {@link ProxyServices#capabilities()}. Called at start for every pool a listener of this protocol uses.
     */
    default void probe(ProxyServices services, PoolRuntime pool) {}
}
