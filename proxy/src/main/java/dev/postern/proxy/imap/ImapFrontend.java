package dev.postern.proxy.imap;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.frontend.FrontendFactory;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.services.ProxyServices;
import io.netty.channel.Channel;

/**
 * The IMAP front end: an {@link ImapDecoder} and an {@link ImapSession} per client connection, logging in on
 * backends with {@link ImapBackendDialogue}. No probe: before login Postern announces its own capabilities, and the
 * backend's post-login list reaches the client in the login reply.
 */
public final class ImapFrontend implements FrontendFactory {
    @Override
    public void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow) {
        FrontendFactory.addPreAuthHandlers(
                client,
                new ImapDecoder(
                        listener.limits().lineLength(),
                        listener.limits().saslLineLength(),
                        listener.limits().literalSize()),
                new ImapSession(services, listener, loginFlow, new ImapBackendDialogue(services)));
    }
}
