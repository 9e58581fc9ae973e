package dev.postern.proxy.imap;

import dev.postern.proxy.login.BackendDialogue;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import io.netty.channel.ChannelHandler;
import io.netty.util.concurrent.Promise;

/**
 * Logs an IMAP session in on a backend: one {@link ImapBackendHandler} per attempt, behind a PROXY v2 header when the
 * backend's identity is {@code proxy-v2}.
 */
public final class ImapBackendDialogue implements BackendDialogue {
    private final ProxyServices services;

    public ImapBackendDialogue(ProxyServices services) {
        this.services = services;
    }

    @Override
    public ChannelHandler newHandler(Session session, BackendLoginRequest request, Promise<BackendLoginResult> result) {
        return new ImapBackendHandler(session, request, services, result).initializer();
    }
}
