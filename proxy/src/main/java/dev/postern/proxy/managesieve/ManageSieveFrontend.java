package dev.postern.proxy.managesieve;

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

/**
 * The ManageSieve front end: a {@link ManageSieveDecoder} and a {@link ManageSieveSession} per client, a {@link
 * CapabilityProbe} per pool (the greeting lists the backends' Sieve extensions, so they are learned at start).
 */
public final class ManageSieveFrontend implements FrontendFactory {
    /** Pools already probed: several listeners may share one pool, which needs one probe. */
    private static final Set<PoolRuntime> PROBED =
            Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    @Override
    public void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow) {
        client.pipeline()
                .addLast(
                        HandlerNames.DECODER,
                        new ManageSieveDecoder(
                                listener.limits().lineLength(),
                                listener.limits().saslLineLength(),
                                listener.limits().literalSize()))
                .addLast(
                        HandlerNames.SESSION,
                        new ManageSieveSession(
                                services, listener, loginFlow, new ManageSieveBackendDialogue(services)));
    }

    @Override
    public void probe(ProxyServices services, PoolRuntime pool) {
        if (PROBED.add(pool)) {
            CapabilityProbe.start(
                    services, pool, Protocol.MANAGESIEVE, (backend, result) -> ManageSieveBackendHandler.probe(
                                    backend, services, result)
                            .initializer());
        }
    }
}
