package dev.postern.proxy.pop3;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.frontend.FrontendFactory;
import dev.postern.proxy.login.CapabilityProbe;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import io.netty.channel.Channel;

/** The POP3 front end: a {@link Pop3Decoder} and a {@link Pop3Session} per client, a {@link CapabilityProbe} per pool. */
public final class Pop3Frontend implements FrontendFactory {
    @Override
    public void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow) {
        FrontendFactory.addPreAuthHandlers(
                client,
                new Pop3Decoder(
                        listener.limits().lineLength(), listener.limits().saslLineLength()),
                new Pop3Session(services, listener, loginFlow, new Pop3BackendDialogue(services)));
    }

    @Override
    public void probe(ProxyServices services, PoolRuntime pool) {
        CapabilityProbe.startOnce(
                services, pool, Protocol.POP3, (backend, result) -> Pop3BackendHandler.probe(backend, services, result)
                        .initializer());
    }
}
