package dev.postern.proxy.smtp.submission;

import dev.postern.proxy.login.BackendDialogue;
import dev.postern.proxy.login.BackendDialogueHandler;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.util.concurrent.Promise;
import java.util.List;

/** The SMTP login dialogue: installs an {@link SmtpBackendHandler} on each new backend channel. */
final class SmtpBackendDialogue implements BackendDialogue {
    private final ProxyServices services;
    private final String hostname;

    SmtpBackendDialogue(ProxyServices services, String hostname) {
        this.services = services;
        this.hostname = hostname;
    }

    @Override
    public ChannelHandler newHandler(Session session, BackendLoginRequest request, Promise<BackendLoginResult> result) {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                BackendDialogueHandler.install(
                        ch,
                        services.tls(),
                        request.backend(),
                        new SmtpBackendHandler(
                                session, request, services.tls(), result, services.capabilities(), hostname));
            }
        };
    }

    @Override
    public List<String> handlerNames() {
        return BackendDialogueHandler.HANDLER_NAMES;
    }
}
