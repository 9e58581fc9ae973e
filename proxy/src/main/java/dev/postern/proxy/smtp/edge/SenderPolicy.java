package dev.postern.proxy.smtp.edge;

import java.net.InetAddress;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * SPF (RFC 7208) for the sender of a mail transaction: {@code check_host} of the MAIL FROM domain, or of the HELO name
 * for the null sender. The implementation evaluates asynchronously within the RFC's DNS lookup limits.
 */
@FunctionalInterface
public interface SenderPolicy {
    /** No checks: every sender is {@code none}. */
    SenderPolicy NONE =
            (client, helo, sender) -> CompletableFuture.completedFuture(new Outcome(Result.NONE, "no SPF check", null));

    /**
     * Evaluates SPF. The stage may complete on any thread, never exceptionally (a DNS failure is {@code temperror}).
     *
     * @param client the client's address
     * @param helo the client's HELO/EHLO name
     * @param sender the MAIL FROM address ({@code local@domain}), empty for the null sender
     */
    CompletionStage<Outcome> check(InetAddress client, String helo, String sender);

    /** RFC 7208 section 2.6 results. */
    enum Result {
        NONE,
        NEUTRAL,
        PASS,
        FAIL,
        SOFTFAIL,
        TEMPERROR,
        PERMERROR;

        /** As RFC 7208 writes it ({@code softfail}). */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One check's outcome.
     *
     * @param result the result
     * @param explanation a short text for the reply and logs (the domain's explanation for {@code fail}, when given)
     * @param receivedSpf the {@code Received-SPF} header field (name, colon, value; folded lines joined by CRLF and
     *     whitespace; no final CRLF), or null to add none
     */
    record Outcome(Result result, String explanation, String receivedSpf) {}
}
