package dev.postern.proxy.smtp;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.ListenerConfig;
import dev.postern.config.Routes;
import dev.postern.config.SpfConfig;
import dev.postern.proxy.dns.DnsClient;
import dev.postern.proxy.dns.DnsblChecker;
import dev.postern.proxy.dns.SpfEvaluator;
import dev.postern.proxy.frontend.FrontendFactory;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SMTP front end. The listener's {@code smtp.role} chooses the session: submission (an {@link SmtpLineDecoder}
 * and an {@link SmtpSession}, the {@link SmtpBackendDialogue} on each backend channel) or relay (an {@link
 * SmtpRelayDecoder} and an {@link SmtpRelaySession}, a {@link RelayBackend} per backend connection). Each pool's EHLO
 * keywords are probed at start.
 */
public final class SmtpFrontend implements FrontendFactory {
    private static final Logger log = LoggerFactory.getLogger(SmtpFrontend.class);

    private final String hostname;
    private final RelayChecks checks;
    private final ConcurrentHashMap<String, RelayEdge> edges = new ConcurrentHashMap<>();

    /**
     * What relay listeners need from outside themselves: the routing table, and the DNS-based checks of each
     * listener.
     *
     * @param router which pool takes mail for a recipient
     * @param reputation the DNS lists of a listener ({@link ClientReputation#NONE} when it has none)
     * @param senders the SPF checks of a listener ({@link SenderPolicy#NONE} when it has none)
     * @param ticker the clock of the limits and caches
     */
    public record RelayChecks(
            Function<ProxyServices, RecipientRouter> router,
            BiFunction<ListenerConfig, ProxyServices, ClientReputation> reputation,
            BiFunction<ListenerConfig, ProxyServices, SenderPolicy> senders,
            Ticker ticker) {

        /** Routing from a static table; no DNS checks. */
        public static RelayChecks of(Routes routes) {
            return fixed(RecipientRouter.of(routes), ClientReputation.NONE, SenderPolicy.NONE, Ticker.systemTicker());
        }

        /** Checks that do not depend on the listener (tests, tools). */
        public static RelayChecks fixed(
                RecipientRouter router, ClientReputation reputation, SenderPolicy senders, Ticker ticker) {
            return new RelayChecks(s -> router, (l, s) -> reputation, (l, s) -> senders, ticker);
        }

        /**
         * What a running Postern uses: the live routing table, and each listener's DNS lists and SPF checks through
         * {@code dns} (null when no listener needs DNS).
         */
        public static RelayChecks live(DnsClient dns) {
            return new RelayChecks(
                    s -> RecipientRouter.of(s.routing()),
                    (l, s) -> dns == null || l.smtp().dnsbl().isEmpty()
                            ? ClientReputation.NONE
                            : new DnsListReputation(new DnsblChecker(
                                    dns,
                                    l.smtp().dnsbl().get(),
                                    Ticker.systemTicker(),
                                    s.transport().workerGroup().next())),
                    (l, s) -> dns == null || l.smtp().spf().policy() == SpfConfig.Policy.OFF
                            ? SenderPolicy.NONE
                            : new SpfSenderPolicy(
                                    new SpfEvaluator(
                                            dns,
                                            l.smtp().spf(),
                                            s.transport().workerGroup().next()),
                                    l.smtp().hostname().orElse(LocalHost.NAME)),
                    Ticker.systemTicker());
        }
    }

    /** A front end greeting with this machine's host name (unless a listener names itself), without routes. */
    public SmtpFrontend() {
        this(LocalHost.NAME, RelayChecks.of(Routes.NONE));
    }

    /** The front end of a running Postern: live routing, DNS checks through {@code dns} (null: none). */
    public SmtpFrontend(DnsClient dns) {
        this(LocalHost.NAME, RelayChecks.live(dns));
    }

    /** A front end that calls itself {@code hostname} (unless a listener names itself) in greetings and EHLOs. */
    public SmtpFrontend(String hostname, RelayChecks checks) {
        this.hostname = Objects.requireNonNull(hostname, "hostname");
        this.checks = Objects.requireNonNull(checks, "checks");
    }

    public String hostname() {
        return hostname;
    }

    /** The name a listener uses: its own {@code smtp.hostname}, or the front end's. */
    String hostname(ListenerConfig listener) {
        return listener.smtp().hostname().orElse(hostname);
    }

    @Override
    public void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow) {
        String name = hostname(listener);
        if (SmtpRole.of(listener.smtp().role()) == SmtpRole.RELAY) {
            client.pipeline()
                    .addLast(
                            HandlerNames.DECODER,
                            new SmtpRelayDecoder(
                                    listener.limits().lineLength(),
                                    listener.smtp().bareLineEndings()
                                            == dev.postern.config.SmtpConfig.BareLineEndings.NORMALIZE))
                    .addLast(
                            HandlerNames.SESSION,
                            new SmtpRelaySession(services, listener, loginFlow, edge(listener, name, services)));
            return;
        }
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
                                new SmtpDialogue(services, name)));
    }

    /** The state a relay listener's sessions share, made at its first connection. */
    RelayEdge edge(ListenerConfig listener, String name, ProxyServices services) {
        return edges.computeIfAbsent(listener.name(), n -> {
            ClientReputation reputation = checks.reputation().apply(listener, services);
            SenderPolicy senders = checks.senders().apply(listener, services);
            if (listener.smtp().dnsbl().isPresent() && reputation == ClientReputation.NONE) {
                log.warn(
                        "listener '{}': dnsbl is configured but this build has no DNS list checker; no client is"
                                + " looked up",
                        listener.name());
            }
            if (listener.smtp().spf().policy() != SpfConfig.Policy.OFF && senders == SenderPolicy.NONE) {
                log.warn(
                        "listener '{}': spf is configured but no SPF checker is available; senders are not checked",
                        listener.name());
            }
            return new RelayEdge(listener, name, checks.router().apply(services), reputation, senders, checks.ticker());
        });
    }

    @Override
    public void probe(ProxyServices services, PoolRuntime pool) {
        SmtpProbe.start(services, pool, hostname);
    }

    /** The machine's host name, as the greeting and the EHLO to backends use it by default. */
    public static String machineHostName() {
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
