package dev.postern.proxy.smtp.edge;

import dev.postern.config.ListenerConfig;
import dev.postern.config.SpfConfig;
import dev.postern.proxy.dns.DnsClient;
import dev.postern.proxy.dns.ReceivedSpf;
import dev.postern.proxy.dns.SpfEvaluator;
import dev.postern.proxy.dns.SpfResult;
import dev.postern.proxy.services.ProxyServices;
import java.net.InetAddress;
import java.util.concurrent.CompletionStage;

/**
 * The {@link SenderPolicy} of an edge listener: RFC 7208 through the shared resolver, with the {@code Received-SPF}
 * header folded as a message header (lines within 78 characters).
 */
public final class SpfSenderPolicy implements SenderPolicy {
    private final SpfEvaluator evaluator;
    private final String receiver;

    /** @param receiver the name the header gives this host */
    SpfSenderPolicy(SpfEvaluator evaluator, String receiver) {
        this.evaluator = evaluator;
        this.receiver = receiver;
    }

    /**
     * The SPF checks of {@code listener} through {@code dns}, naming this host {@code receiver} in the header unless
     * the listener names itself; {@link #NONE} when the policy is off or there is no resolver.
     */
    public static SenderPolicy of(DnsClient dns, ListenerConfig listener, ProxyServices services, String receiver) {
        return dns == null || listener.smtp().spf().policy() == SpfConfig.Policy.OFF
                ? SenderPolicy.NONE
                : new SpfSenderPolicy(
                        new SpfEvaluator(
                                dns,
                                listener.smtp().spf(),
                                services.transport().workerGroup().next()),
                        listener.smtp().hostname().orElse(receiver));
    }

    @Override
    public CompletionStage<Outcome> check(InetAddress client, String helo, String sender) {
        return evaluator.checkMailFrom(client, sender, helo).thenApply(this::outcome);
    }

    private Outcome outcome(SpfResult r) {
        String folded = ReceivedSpf.folded(r, receiver);
        if (folded.endsWith("\r\n")) {
            folded = folded.substring(0, folded.length() - 2);
        }
        String why = r.problem()
                .orElseGet(
                        () -> r.mechanism().map(m -> r.domain() + " says " + m).orElse(r.domain()));
        return new Outcome(Result.valueOf(r.verdict().name()), why, folded);
    }
}
