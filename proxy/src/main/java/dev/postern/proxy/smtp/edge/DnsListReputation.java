package dev.postern.proxy.smtp.edge;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.ListenerConfig;
import dev.postern.proxy.dns.DnsClient;
import dev.postern.proxy.dns.DnsblChecker;
import dev.postern.proxy.services.ProxyServices;
import java.net.InetAddress;
import java.util.concurrent.CompletionStage;

/** The {@link ClientReputation} of an edge listener's DNS lists, asked through the shared resolver. */
public final class DnsListReputation implements ClientReputation {
    private final DnsblChecker checker;

    DnsListReputation(DnsblChecker checker) {
        this.checker = checker;
    }

    /** The DNS lists of {@code listener} asked through {@code dns}; {@link #NONE} without lists or resolver. */
    public static ClientReputation of(DnsClient dns, ListenerConfig listener, ProxyServices services) {
        return dns == null || listener.smtp().dnsbl().isEmpty()
                ? ClientReputation.NONE
                : new DnsListReputation(new DnsblChecker(
                        dns,
                        listener.smtp().dnsbl().get(),
                        Ticker.systemTicker(),
                        services.transport().workerGroup().next()));
    }

    @Override
    public CompletionStage<Verdict> check(InetAddress client) {
        return checker.check(client).thenApply(r -> new Verdict(r.score(), r.matched(), r.timedOut()));
    }
}
