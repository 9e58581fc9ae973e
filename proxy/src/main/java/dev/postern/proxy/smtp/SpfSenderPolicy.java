package dev.postern.proxy.smtp;

import dev.postern.proxy.dns.ReceivedSpf;
import dev.postern.proxy.dns.SpfEvaluator;
import dev.postern.proxy.dns.SpfResult;
import java.net.InetAddress;
import java.util.concurrent.CompletionStage;

/**
 * The {@link SenderPolicy} of a relay listener: RFC 7208 through the shared resolver, with the {@code Received-SPF}
 * header folded as a message header (lines within 78 characters).
 */
final class SpfSenderPolicy implements SenderPolicy {
    private final SpfEvaluator evaluator;
    private final String receiver;

    /** @param receiver the name the header gives this host */
    SpfSenderPolicy(SpfEvaluator evaluator, String receiver) {
        this.evaluator = evaluator;
        this.receiver = receiver;
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
