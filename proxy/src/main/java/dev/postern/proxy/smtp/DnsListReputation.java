package dev.postern.proxy.smtp;

import dev.postern.proxy.dns.DnsblChecker;
import java.net.InetAddress;
import java.util.concurrent.CompletionStage;

/** The {@link ClientReputation} of a relay listener's DNS lists, asked through the shared resolver. */
final class DnsListReputation implements ClientReputation {
    private final DnsblChecker checker;

    DnsListReputation(DnsblChecker checker) {
        this.checker = checker;
    }

    @Override
    public CompletionStage<Verdict> check(InetAddress client) {
        return checker.check(client).thenApply(r -> new Verdict(r.score(), r.matched(), r.timedOut()));
    }
}
