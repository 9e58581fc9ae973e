package dev.postern.proxy;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.ListenerConfig;
import dev.postern.config.Routes;
import dev.postern.proxy.dns.DnsClient;
import dev.postern.proxy.frontend.FrontendFactory;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.smtp.SmtpProbe;
import dev.postern.proxy.smtp.SmtpRole;
import dev.postern.proxy.smtp.edge.ClientReputation;
import dev.postern.proxy.smtp.edge.DnsListReputation;
import dev.postern.proxy.smtp.edge.EdgeFrontend;
import dev.postern.proxy.smtp.edge.RecipientRouter;
import dev.postern.proxy.smtp.edge.SenderPolicy;
import dev.postern.proxy.smtp.edge.SharedPassedClients;
import dev.postern.proxy.smtp.edge.SpfSenderPolicy;
import dev.postern.proxy.smtp.submission.SubmissionFrontend;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The SMTP front end: the listener's {@code smtp.role} chooses the role's own front end, {@link SubmissionFrontend}
 * or the port-25 {@link EdgeFrontend}. Each pool's EHLO keywords are probed at start.
 */
public final class SmtpFrontend implements FrontendFactory {
    private final String hostname;
    private final SubmissionFrontend submission;
    private final EdgeFrontend edge;

    /**
     * What relay listeners need from outside themselves: the routing table, and the DNS-based checks of each
     * listener.
     *
     * @param router which pool takes mail for a recipient
     * @param reputation the DNS lists of a listener ({@link ClientReputation#NONE} when it has none)
     * @param senders the SPF checks of a listener ({@link SenderPolicy#NONE} when it has none)
     * @param ticker the clock of the limits and caches
     * @param passedClients the cluster's memory of clients that passed ({@link SharedPassedClients#NONE}: none)
     */
    public record RelayChecks(
            Function<ProxyServices, RecipientRouter> router,
            BiFunction<ListenerConfig, ProxyServices, ClientReputation> reputation,
            BiFunction<ListenerConfig, ProxyServices, SenderPolicy> senders,
            Ticker ticker,
            SharedPassedClients passedClients)
            implements EdgeFrontend.Checks {

        /** Checks of a node alone: it remembers passed clients by itself. */
        public RelayChecks(
                Function<ProxyServices, RecipientRouter> router,
                BiFunction<ListenerConfig, ProxyServices, ClientReputation> reputation,
                BiFunction<ListenerConfig, ProxyServices, SenderPolicy> senders,
                Ticker ticker) {
            this(router, reputation, senders, ticker, SharedPassedClients.NONE);
        }

        /** The same checks, with the cluster's memory of passed clients. */
        public RelayChecks withPassedClients(SharedPassedClients shared) {
            return new RelayChecks(router, reputation, senders, ticker, shared);
        }

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
                    (l, s) -> DnsListReputation.of(dns, l, s),
                    (l, s) -> SpfSenderPolicy.of(dns, l, s, LocalHost.NAME),
                    Ticker.systemTicker());
        }
    }

    /** A front end greeting with this machine's host name (unless a listener names itself), without routes. */
    public SmtpFrontend() {
        this(LocalHost.NAME, RelayChecks.of(Routes.NONE));
    }

    /** The front end of a running Postern: live routing, DNS checks through {@code dns} (null: none). */
    public SmtpFrontend(DnsClient dns) {
        this(dns, SharedPassedClients.NONE);
    }

    /** The front end of a running node of a cluster, whose nodes remember passed clients in {@code passed}. */
    public SmtpFrontend(DnsClient dns, SharedPassedClients passed) {
        this(LocalHost.NAME, RelayChecks.live(dns).withPassedClients(passed));
    }

    /** A front end that calls itself {@code hostname} (unless a listener names itself) in greetings and EHLOs. */
    public SmtpFrontend(String hostname, RelayChecks checks) {
        this.hostname = Objects.requireNonNull(hostname, "hostname");
        this.submission = new SubmissionFrontend(hostname);
        this.edge = new EdgeFrontend(hostname, Objects.requireNonNull(checks, "checks"));
    }

    public String hostname() {
        return hostname;
    }

    @Override
    public void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow) {
        FrontendFactory role = SmtpRole.of(listener.smtp().role()) == SmtpRole.RELAY ? edge : submission;
        role.install(client, services, listener, loginFlow);
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
