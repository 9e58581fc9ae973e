package dev.postern.proxy.smtp.submission;

import dev.postern.config.ConfigLoader;
import dev.postern.config.PosternConfig;
import dev.postern.config.Protocol;
import dev.postern.config.TlsConfig;
import dev.postern.proxy.SmtpFrontend;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.auth.AuthResult;
import dev.postern.proxy.auth.Authenticator;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.sasl.OAuthError;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.tls.TlsManager;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An SMTP front end on an {@link EmbeddedChannel}: no sockets, no backend. Logins go to an authenticator the test
 * controls (rejecting ones never reach a backend), and every request is recorded.
 */
final class EmbeddedSmtp implements AutoCloseable {
    static final String HOST = "proxy.test";

    final EmbeddedChannel channel;
    final ProxyServices services;
    final List<AuthRequest> logins = new ArrayList<>();

    private EmbeddedSmtp(EmbeddedChannel channel, ProxyServices services) {
        this.channel = channel;
        this.services = services;
    }

    /** How the test authenticator answers. */
    enum Verdict {
        REJECT,
        UNAVAILABLE,
        /** A bearer token refused with an RFC 7628 error status. */
        TOKEN_REFUSED
    }

    /**
     * A session on a listener configured by {@code listenerOptions} (YAML flow-mapping entries after name, protocol,
     * bind and pool), with {@code keywords} as the pool's known backend EHLO keywords (null for none known).
     */
    static EmbeddedSmtp start(String listenerOptions, List<String> keywords, Verdict verdict, TlsManager tls)
            throws Exception {
        PosternConfig config = ConfigLoader.parse(
                """
                listeners:
                  - {name: sub, protocol: smtp, bind: "127.0.0.1:1", pool: p%s}
                pools:
                  - {name: p, backends: [{address: "127.0.0.1:2"}]}
                """
                        .formatted(listenerOptions.isEmpty() ? "" : ", " + listenerOptions),
                Path.of("."));
        BackendCapabilities capabilities = new BackendCapabilities();
        if (keywords != null) {
            capabilities.learned("p", Protocol.SMTP, keywords);
        }
        SessionRegistry sessions = new SessionRegistry(Metrics.NOOP);
        ProxyServices services = new ProxyServices(
                null,
                tls,
                null,
                Map.of("p", new PoolRuntime(config.pools().get(0))),
                sessions,
                capabilities,
                Metrics.NOOP);
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        EmbeddedSmtp smtp = new EmbeddedSmtp(ch, services);
        Authenticator authenticator = request -> {
            smtp.logins.add(request);
            return CompletableFuture.completedFuture(
                    verdict == Verdict.TOKEN_REFUSED
                            ? AuthResult.Rejected.token(
                                    "expired", OAuthError.invalidToken(Optional.of("mail"), Optional.empty()))
                            : new AuthResult.Rejected("test", verdict == Verdict.UNAVAILABLE, Duration.ZERO));
        };
        sessions.open(config.listeners().get(0), ch);
        new SmtpFrontend(HOST, SmtpFrontend.RelayChecks.of(dev.postern.config.Routes.NONE))
                .install(ch, services, config.listeners().get(0), new LoginFlow(services, authenticator));
        ch.register();
        return smtp;
    }

    static EmbeddedSmtp start(String listenerOptions, List<String> keywords) throws Exception {
        return start(listenerOptions, keywords, Verdict.REJECT, null);
    }

    /** A TLS manager with a self-signed certificate, for STARTTLS listeners. */
    static TlsManager selfSignedTls() throws Exception {
        return TlsManager.create(
                new TlsConfig(
                        TlsConfig.Provider.JDK,
                        TlsConfig.DEFAULT_PROTOCOLS,
                        TlsConfig.DEFAULT_CIPHERS,
                        List.of(),
                        100,
                        Duration.ofMinutes(5)),
                Duration.ofSeconds(10));
    }

    /** Sends bytes as the client, lets the event loop run, and returns the reply lines written since. */
    List<String> send(String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
        channel.runPendingTasks();
        return replies();
    }

    /** The reply lines written so far and not read yet. */
    List<String> replies() {
        StringBuilder sb = new StringBuilder();
        Object o;
        while ((o = channel.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) o;
            sb.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        if (sb.length() == 0) {
            return List.of();
        }
        String s = sb.toString();
        if (!s.endsWith("\r\n")) {
            throw new AssertionError("reply not terminated by CRLF: " + s);
        }
        return Arrays.asList(s.substring(0, s.length() - 2).split("\r\n", -1));
    }

    void advance(Duration d) {
        channel.advanceTimeBy(d.toMillis(), TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close() {
        channel.finishAndReleaseAll();
    }
}
