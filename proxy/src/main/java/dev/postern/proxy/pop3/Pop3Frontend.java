package dev.postern.proxy.pop3;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.frontend.FrontendFactory;
import dev.postern.proxy.login.CapabilityProbe;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.channel.Channel;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;

/** The POP3 front end: a {@link Pop3Decoder} and a {@link Pop3Session} per client, a {@link CapabilityProbe} per pool. */
public final class Pop3Frontend implements FrontendFactory {
    /** Pools already probed: several listeners may share one pool, which needs one probe. */
    private static final Set<PoolRuntime> PROBED =
            Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    @Override
    public void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow) {
        client.pipeline()
                .addLast(
                        HandlerNames.DECODER,
                        new Pop3Decoder(
                                listener.limits().lineLength(),
                                listener.limits().saslLineLength()))
                .addLast(
                        HandlerNames.SESSION,
                        new Pop3Session(services, listener, loginFlow, new Pop3BackendDialogue(services)));
    }

    @Override
    public void probe(ProxyServices services, PoolRuntime pool) {
        if (PROBED.add(pool)) {
            CapabilityProbe.start(services, pool, Protocol.POP3, (backend, result) -> Pop3BackendHandler.probe(
                            backend, services, result)
                    .initializer());
        }
    }
}
