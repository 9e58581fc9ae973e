package dev.postern.proxy.managesieve;

import dev.postern.proxy.login.BackendDialogue;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import io.netty.channel.ChannelHandler;
import io.netty.util.concurrent.Promise;

/** Logs a ManageSieve session in on a backend: one {@link ManageSieveBackendHandler} per attempt. */
public final class ManageSieveBackendDialogue implements BackendDialogue {
    private final ProxyServices services;

    public ManageSieveBackendDialogue(ProxyServices services) {
        this.services = services;
    }

    @Override
    public ChannelHandler newHandler(Session session, BackendLoginRequest request, Promise<BackendLoginResult> result) {
        return ManageSieveBackendHandler.login(session, request, services, result)
                .initializer();
    }
}
