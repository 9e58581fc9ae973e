package dev.postern.proxy.lmtp;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.frontend.FrontendFactory;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.smtp.SmtpDecoder;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.channel.Channel;
import java.util.Objects;

/**
 * The front end of {@code protocol: lmtp} listeners: an {@link SmtpDecoder} and an {@link LmtpSession} on each client
 * channel, an {@link LmtpBackend} per backend connection. Recipients are found through the listener's auth chain and
 * routes ({@link RecipientLookup}), so nothing needs probing at start.
 */
public final class LmtpFrontend implements FrontendFactory {
    private final String hostname;

    /** A front end that calls itself {@code hostname} (unless a listener names itself) in greetings and LHLOs. */
    public LmtpFrontend(String hostname) {
        this.hostname = Objects.requireNonNull(hostname, "hostname");
    }

    @Override
    public void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow) {
        String name = listener.smtp().hostname().orElse(hostname);
        client.pipeline()
                .addLast(HandlerNames.DECODER, SmtpDecoder.forListener(listener))
                .addLast(
                        HandlerNames.SESSION,
                        new LmtpSession(services, listener, loginFlow, name, new RecipientLookup(loginFlow, listener)));
    }
}
