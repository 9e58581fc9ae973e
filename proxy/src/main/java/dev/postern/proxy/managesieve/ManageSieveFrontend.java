package dev.postern.proxy.managesieve;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.frontend.FrontendFactory;
import dev.postern.proxy.login.CapabilityProbe;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import io.netty.channel.Channel;

/**
 * The ManageSieve front end: a {@link ManageSieveDecoder} and a {@link ManageSieveSession} per client, a {@link
 * CapabilityProbe} per pool (the greeting lists the backends' Sieve extensions, so they are learned at start).
 */
public final class ManageSieveFrontend implements FrontendFactory {
    @Override
    public void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow) {
        FrontendFactory.addPreAuthHandlers(
                client,
                new ManageSieveDecoder(
                        listener.limits().lineLength(),
                        listener.limits().saslLineLength(),
                        listener.limits().literalSize()),
                new ManageSieveSession(services, listener, loginFlow, new ManageSieveBackendDialogue(services)));
    }

    @Override
    public void probe(ProxyServices services, PoolRuntime pool) {
        CapabilityProbe.startOnce(
                services, pool, Protocol.MANAGESIEVE, (backend, result) -> ManageSieveBackendHandler.probe(
                                backend, services, result)
                        .initializer());
    }
}
