package dev.postern.proxy.smtp;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.ProxyServices;
import dev.postern.proxy.frontend.FrontendFactory;
import dev.postern.proxy.frontend.LoginFlow;
import dev.postern.proxy.frontend.PreAuthHandler;
import dev.postern.proxy.routing.PoolRuntime;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * The SMTP front end: an {@link SmtpLineDecoder} and an {@link SmtpSession} on each client channel, the {@link
 * SmtpBackendDialogue} on each backend channel, and a probe of each pool's EHLO keywords at start.
 */
public final class SmtpFrontend implements FrontendFactory {
    private final SmtpRole role;
    private final String hostname;

    /** A front end in {@code role}, greeting with this machine's host name. */
    public SmtpFrontend(SmtpRole role) {
        this(role, LocalHost.NAME);
    }

    /** A front end in {@code role} that calls itself {@code hostname} in its greeting and its EHLO to backends. */
    public SmtpFrontend(SmtpRole role, String hostname) {
        this.role = Objects.requireNonNull(role, "role");
        this.hostname = Objects.requireNonNull(hostname, "hostname");
    }

    public SmtpRole role() {
        return role;
    }

    public String hostname() {
        return hostname;
    }

    @Override
    public void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow) {
        client.pipeline()
                .addLast(
                        PreAuthHandler.DECODER,
                        new SmtpLineDecoder(
                                listener.limits().lineLength(),
                                listener.limits().saslLineLength()))
                .addLast(
                        PreAuthHandler.SESSION,
                        new SmtpSession(
                                services, listener, loginFlow, role, hostname, new SmtpDialogue(services, hostname)));
    }

    @Override
    public void probe(ProxyServices services, PoolRuntime pool) {
        SmtpProbe.start(services, pool, hostname);
    }

    /** The machine's host name, as the greeting and the EHLO to backends use it by default. */
    static String machineHostName() {
        return LocalHost.NAME;
    }

    /** The machine's host name, looked up once (the lookup may touch DNS). */
    private static final class LocalHost {
        static final String NAME = lookup();

        private static String lookup() {
            try {
                String name = InetAddress.getLocalHost().getHostName();
                return name == null || name.isEmpty() ? "localhost" : name;
            } catch (UnknownHostException e) {
                return "localhost";
            }
        }
    }
}
