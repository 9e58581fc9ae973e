package dev.postern.proxy.smtp.submission;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.frontend.FrontendFactory;
import dev.postern.proxy.login.BackendDialogue;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.smtp.SmtpProbe;
import dev.postern.proxy.smtp.SmtpRole;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.channel.Channel;
import java.util.Objects;

/**
 * The front end of submission listeners (RFC 6409): an {@link SmtpLineDecoder} and an {@link SmtpSession} on each
 * client channel, the {@link SmtpBackendHandler} on each backend channel. Each pool's EHLO keywords are probed at
 * start.
 */
public final class SubmissionFrontend implements FrontendFactory {
    private final String hostname;

    /** A front end that calls itself {@code hostname} (unless a listener names itself) in greetings and EHLOs. */
    public SubmissionFrontend(String hostname) {
        this.hostname = Objects.requireNonNull(hostname, "hostname");
    }

    @Override
    public void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow) {
        String name = listener.smtp().hostname().orElse(hostname);
        client.pipeline()
                .addLast(
                        HandlerNames.DECODER,
                        new SmtpLineDecoder(
                                listener.limits().lineLength(),
                                listener.limits().saslLineLength()))
                .addLast(
                        HandlerNames.SESSION,
                        new SmtpSession(
                                services,
                                listener,
                                loginFlow,
                                SmtpRole.SUBMISSION,
                                name,
                                new SmtpBackendDialogue(services, name)));
    }

    /** The submission login dialogue as {@code hostname} (a health check's probe login uses it too). */
    public static BackendDialogue backendDialogue(ProxyServices services, String hostname) {
        return new SmtpBackendDialogue(services, hostname);
    }

    @Override
    public void probe(ProxyServices services, PoolRuntime pool) {
        SmtpProbe.start(services, pool, hostname);
    }
}
