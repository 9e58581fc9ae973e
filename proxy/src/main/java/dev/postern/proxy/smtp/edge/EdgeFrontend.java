package dev.postern.proxy.smtp.edge;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.ListenerConfig;
import dev.postern.config.SpfConfig;
import dev.postern.proxy.frontend.FrontendFactory;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.smtp.SmtpDecoder;
import dev.postern.proxy.smtp.SmtpProbe;
import dev.postern.proxy.smtp.TransactionBackend;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.channel.Channel;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front end of the port-25 edge (listeners with {@code smtp.role: relay}): an {@link SmtpDecoder} and an
 * {@link EdgeSession} on each client channel, a {@link TransactionBackend} per backend connection. The sessions of one
 * listener share its {@link Edge}, made at its first connection. Each pool's EHLO keywords are probed at start.
 */
public final class EdgeFrontend implements FrontendFactory {
    private static final Logger log = LoggerFactory.getLogger(EdgeFrontend.class);

    /** What edge listeners need from outside themselves: the routing table, and the DNS-based checks of each. */
    public interface Checks {
        /** Which pool takes mail for a recipient. */
        Function<ProxyServices, RecipientRouter> router();

        /** The DNS lists of a listener ({@link ClientReputation#NONE} when it has none). */
        BiFunction<ListenerConfig, ProxyServices, ClientReputation> reputation();

        /** The SPF checks of a listener ({@link SenderPolicy#NONE} when it has none). */
        BiFunction<ListenerConfig, ProxyServices, SenderPolicy> senders();

        /** The clock of the limits and caches. */
        Ticker ticker();

        /** The cluster's memory of clients that passed ({@link SharedPassedClients#NONE}: this node's only). */
        default SharedPassedClients passedClients() {
            return SharedPassedClients.NONE;
        }
    }

    private final String hostname;
    private final Checks checks;
    private final ConcurrentHashMap<String, Edge> edges = new ConcurrentHashMap<>();

    /** A front end that calls itself {@code hostname} (unless a listener names itself) in greetings and EHLOs. */
    public EdgeFrontend(String hostname, Checks checks) {
        this.hostname = Objects.requireNonNull(hostname, "hostname");
        this.checks = Objects.requireNonNull(checks, "checks");
    }

    @Override
    public void install(Channel client, ProxyServices services, ListenerConfig listener, LoginFlow loginFlow) {
        String name = listener.smtp().hostname().orElse(hostname);
        client.pipeline()
                .addLast(HandlerNames.DECODER, SmtpDecoder.forListener(listener))
                .addLast(
                        HandlerNames.SESSION,
                        new EdgeSession(services, listener, loginFlow, edge(listener, name, services)));
    }

    /** The state an edge listener's sessions share, made at its first connection. */
    Edge edge(ListenerConfig listener, String name, ProxyServices services) {
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
            return new Edge(
                    listener,
                    name,
                    checks.router().apply(services),
                    reputation,
                    senders,
                    checks.ticker(),
                    checks.passedClients());
        });
    }

    @Override
    public void probe(ProxyServices services, PoolRuntime pool) {
        SmtpProbe.start(services, pool, hostname);
    }
}
