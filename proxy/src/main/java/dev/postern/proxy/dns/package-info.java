/**
 * The DNS-based checks of the SMTP edge on port 25: DNS block and allow lists scored like Postfix's postscreen
 * ({@link dev.postern.proxy.dns.DnsblChecker}) and SPF, RFC 7208 ({@link dev.postern.proxy.dns.SpfEvaluator}, {@link
 * dev.postern.proxy.dns.ReceivedSpf}), over one shared asynchronous resolver ({@link
 * dev.postern.proxy.dns.NettyDnsClient}) behind the {@link dev.postern.proxy.dns.DnsClient} facade.
 *
 * <p>Nothing here blocks: every check returns a {@link java.util.concurrent.CompletionStage} that completes on the
 * resolver's event loop (or at once, on the caller's thread, from a cache). An SMTP session continues on its own
 * event loop, e.g. with {@code stage.whenCompleteAsync(..., ctx.executor())}.
 */
package dev.postern.proxy.dns;
