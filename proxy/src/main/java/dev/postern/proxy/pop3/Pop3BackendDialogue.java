package dev.postern.proxy.pop3;

import dev.postern.proxy.login.BackendDialogue;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import io.netty.channel.ChannelHandler;
import io.netty.util.concurrent.Promise;

/** Logs a POP3 session in on a backend: one {@link Pop3BackendHandler} per attempt. */
public final class Pop3BackendDialogue implements BackendDialogue {
    private final ProxyServices services;

    public Pop3BackendDialogue(ProxyServices services) {
        this.services = services;
    }

    @Override
    public ChannelHandler newHandler(Session session, BackendLoginRequest request, Promise<BackendLoginResult> result) {
        return Pop3BackendHandler.login(session, request, services, result).initializer();
    }
}
