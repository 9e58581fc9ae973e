package dev.postern.proxy.dns;

import static dev.postern.proxy.dns.SpfEvaluator.MAX_DNS_TERMS;
import static dev.postern.proxy.dns.SpfEvaluator.MAX_MX_NAMES;
import static dev.postern.proxy.dns.SpfEvaluator.MAX_PTR_NAMES;
import static dev.postern.proxy.dns.SpfEvaluator.MAX_VOID_LOOKUPS;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One check, with the counters its limits need across includes and redirects. Its stages run one after the other
 * (each on the thread that completed the previous lookup), so the counters need no locks: a stage sees what the
 * one before it wrote.
 */
final class SpfEvaluation {
    /**
     * How a term or a check ended. A term that did not match is {@link #NO_MATCH}; anything else ends the check (or
     * the include) with its verdict.
     */
    record Outcome(SpfVerdict verdict, String mechanism, String problem) {}

    private static final Outcome NO_MATCH = new Outcome(SpfVerdict.NONE, null, null);

    private static CompletionStage<Outcome> done(Outcome outcome) {
        return CompletableFuture.completedFuture(outcome);
    }

    private static CompletionStage<Outcome> perm(String problem) {
        return done(new Outcome(SpfVerdict.PERMERROR, null, problem));
    }

    private static CompletionStage<Outcome> temp(String problem) {
        return done(new Outcome(SpfVerdict.TEMPERROR, null, problem));
    }

    private final DnsClient dns;
    private final InetAddress ip;
    private final boolean v4;
    private final String sender;
    private final String helo;
    private int dnsTerms;
    private int voidLookups;
    /** Set when the timeout passed: no further lookups. */
    volatile boolean abandoned;

    SpfEvaluation(DnsClient dns, InetAddress ip, String sender, String helo) {
        this.dns = dns;
        this.ip = ip;
        this.v4 = ip instanceof Inet4Address;
        this.sender = sender;
        this.helo = helo;
    }

    /** RFC 7208 section 4: the policy of {@code domain} for this client. */
    CompletionStage<Outcome> checkHost(String domain) {
        String name = DnsNames.normalize(domain);
        if (name == null || name.indexOf('.') < 0) {
            return done(new Outcome(SpfVerdict.NONE, null, "'" + domain + "' is not a domain name"));
        }
        if (abandoned) {
            return temp("abandoned");
        }
        return dns.lookup(name, DnsType.TXT).thenCompose(answer -> {
            if (answer instanceof DnsAnswer.Failed<String> failed) {
                return temp("DNS " + failed.reason() + " looking up TXT of " + name);
            }
            List<String> records = new ArrayList<>();
            for (String txt : answer.values()) {
                if (SpfRecord.isSpf(txt)) {
                    records.add(txt);
                }
            }
            if (records.isEmpty()) {
                return done(new Outcome(SpfVerdict.NONE, null, null));
            }
            if (records.size() > 1) {
                return perm(name + " has " + records.size() + " SPF records");
            }
            SpfRecord record;
            try {
                record = SpfRecord.parse(records.get(0));
            } catch (SpfSyntaxException e) {
                return perm("SPF record of " + name + ": " + e.getMessage());
            }
            SpfMacro.Context context = new SpfMacro.Context(ip, sender, name, helo);
            return terms(record, 0, context);
        });
    }

    /**
     * The mechanisms from {@code index} on, then {@code redirect=} or the default, {@code neutral}. Mechanisms
     * without DNS are matched in a loop: a record may hold thousands of them, and stages completed at once would
     * nest a stack frame each.
     */
    private CompletionStage<Outcome> terms(SpfRecord record, int index, SpfMacro.Context context) {
        List<SpfRecord.Mechanism> mechanisms = record.mechanisms();
        for (int i = index; i < mechanisms.size(); i++) {
            SpfRecord.Mechanism mechanism = mechanisms.get(i);
            if (!mechanism.queriesDns()) {
                if (matchesWithoutDns(mechanism)) {
                    return match(mechanism);
                }
                continue;
            }
            if (abandoned) {
                return temp("abandoned");
            }
            if (++dnsTerms > MAX_DNS_TERMS) {
                return perm("more than " + MAX_DNS_TERMS + " DNS-querying terms (at " + mechanism.text() + " in "
                        + context.domain() + ")");
            }
            int next = i + 1;
            return matches(mechanism, context)
                    .thenCompose(outcome -> outcome == NO_MATCH ? terms(record, next, context) : done(outcome));
        }
        if (record.redirect().isPresent() && !record.hasAll()) {
            return redirect(record.redirect().get(), context);
        }
        return done(new Outcome(SpfVerdict.NEUTRAL, "default", null));
    }

    private boolean matchesWithoutDns(SpfRecord.Mechanism mechanism) {
        if (mechanism instanceof SpfRecord.Ip network) {
            return SpfRecord.inNetwork(ip.getAddress(), network.network(), network.prefix());
        }
        return mechanism instanceof SpfRecord.All;
    }

    private CompletionStage<Outcome> redirect(SpfMacro target, SpfMacro.Context context) {
        if (++dnsTerms > MAX_DNS_TERMS) {
            return perm("more than " + MAX_DNS_TERMS + " DNS-querying terms (at redirect=" + target + " in "
                    + context.domain() + ")");
        }
        String domain = target.expandDomain(context);
        return checkHost(domain).thenApply(outcome -> {
            if (outcome.verdict() == SpfVerdict.NONE) {
                return new Outcome(SpfVerdict.PERMERROR, null, "redirect=" + domain + " has no SPF record");
            }
            return outcome;
        });
    }

    /**
     * {@link #NO_MATCH}, the mechanism's qualifier result, or an error that ends the check; for the mechanisms
     * that query DNS.
     */
    private CompletionStage<Outcome> matches(SpfRecord.Mechanism mechanism, SpfMacro.Context context) {
        if (mechanism instanceof SpfRecord.Include include) {
            return include(include, context);
        }
        if (mechanism instanceof SpfRecord.A a) {
            String target = a.domain().map(d -> d.expandDomain(context)).orElse(context.domain());
            return addressLookup(target).thenCompose(answer -> {
                if (answer instanceof DnsAnswer.Failed<InetAddress> failed) {
                    return temp("DNS " + failed.reason() + " looking up " + target);
                }
                if (answer instanceof DnsAnswer.NoRecords) {
                    return voidLookup(mechanism, target);
                }
                return anyInNetwork(answer.values(), a.cidr4(), a.cidr6()) ? match(mechanism) : done(NO_MATCH);
            });
        }
        if (mechanism instanceof SpfRecord.Mx mx) {
            return mx(mx, context);
        }
        if (mechanism instanceof SpfRecord.Exists exists) {
            String target = exists.domain().expandDomain(context);
            // always an A lookup, whatever the client's address family (RFC 7208 section 5.7)
            return dns.lookup(target, DnsType.A).thenCompose(answer -> {
                if (answer instanceof DnsAnswer.Failed<InetAddress> failed) {
                    return temp("DNS " + failed.reason() + " looking up " + target);
                }
                if (answer instanceof DnsAnswer.NoRecords) {
                    return voidLookup(mechanism, target);
                }
                return match(mechanism);
            });
        }
        if (mechanism instanceof SpfRecord.Ptr ptr) {
            return ptr(ptr, context);
        }
        throw new IllegalStateException("mechanism " + mechanism);
    }

    private CompletionStage<Outcome> match(SpfRecord.Mechanism mechanism) {
        return done(new Outcome(mechanism.qualifier().verdict, mechanism.text(), null));
    }

    private CompletionStage<Outcome> voidLookup(SpfRecord.Mechanism mechanism, String target) {
        if (++voidLookups > MAX_VOID_LOOKUPS) {
            return perm(
                    "more than " + MAX_VOID_LOOKUPS + " void lookups (at " + mechanism.text() + ": " + target + ")");
        }
        return done(NO_MATCH);
    }

    /** RFC 7208 section 5.2: pass matches; fail, softfail, neutral do not; errors and none end the check. */
    private CompletionStage<Outcome> include(SpfRecord.Include include, SpfMacro.Context context) {
        String target = include.domain().expandDomain(context);
        return checkHost(target).thenCompose(outcome -> {
            switch (outcome.verdict()) {
                case PASS:
                    return match(include);
                case FAIL:
                case SOFTFAIL:
                case NEUTRAL:
                    return done(NO_MATCH);
                case TEMPERROR:
                    return done(outcome);
                case NONE:
                    return perm("include:" + target + " has no SPF record");
                default:
                    return done(outcome);
            }
        });
    }

    /** RFC 7208 section 5.4: the addresses of the target's MX hosts, at most 10 of them. */
    private CompletionStage<Outcome> mx(SpfRecord.Mx mx, SpfMacro.Context context) {
        String target = mx.domain().map(d -> d.expandDomain(context)).orElse(context.domain());
        return dns.lookup(target, DnsType.MX).thenCompose(answer -> {
            if (answer instanceof DnsAnswer.Failed<MxRecord> failed) {
                return temp("DNS " + failed.reason() + " looking up MX of " + target);
            }
            if (answer instanceof DnsAnswer.NoRecords) {
                return voidLookup(mx, target);
            }
            List<MxRecord> hosts = new ArrayList<>(answer.values());
            if (hosts.size() > MAX_MX_NAMES) {
                return perm(target + " has " + hosts.size() + " MX records (at most " + MAX_MX_NAMES + ")");
            }
            hosts.sort(Comparator.comparingInt(MxRecord::preference).thenComparing(MxRecord::host));
            List<CompletableFuture<DnsAnswer<InetAddress>>> lookups = new ArrayList<>();
            for (MxRecord host : hosts) {
                lookups.add(
                        host.host().isEmpty()
                                ? CompletableFuture.completedFuture(new DnsAnswer.NoRecords<>(true, 0))
                                : addressLookup(host.host()).toCompletableFuture());
            }
            return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new))
                    .thenCompose(ignored -> {
                        // in preference order, as if asked one by one: a match or an error, whichever comes first
                        for (int i = 0; i < lookups.size(); i++) {
                            DnsAnswer<InetAddress> a = lookups.get(i).join();
                            if (a instanceof DnsAnswer.Failed<InetAddress> failed) {
                                return temp("DNS " + failed.reason() + " looking up "
                                        + hosts.get(i).host());
                            }
                            if (anyInNetwork(a.values(), mx.cidr4(), mx.cidr6())) {
                                return match(mx);
                            }
                        }
                        return done(NO_MATCH);
                    });
        });
    }

    /**
     * RFC 7208 section 5.5: the client's PTR names (at most 10) that resolve back to it, and whether one of them
     * is the target or below it. DNS errors only make it not match.
     */
    private CompletionStage<Outcome> ptr(SpfRecord.Ptr ptr, SpfMacro.Context context) {
        String target = ptr.domain()
                .map(d -> d.expandDomain(context))
                .orElse(context.domain())
                .toLowerCase(Locale.ROOT);
        return dns.lookup(DnsNames.ptrName(ip), DnsType.PTR).thenCompose(answer -> {
            if (answer instanceof DnsAnswer.Failed) {
                return done(NO_MATCH);
            }
            if (answer instanceof DnsAnswer.NoRecords) {
                return voidLookup(ptr, DnsNames.ptrName(ip));
            }
            List<String> names = answer.values()
                    .subList(0, Math.min(MAX_PTR_NAMES, answer.values().size()));
            List<CompletableFuture<DnsAnswer<InetAddress>>> lookups = new ArrayList<>();
            for (String name : names) {
                lookups.add(addressLookup(name).toCompletableFuture());
            }
            return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new))
                    .thenCompose(ignored -> {
                        for (int i = 0; i < names.size(); i++) {
                            String name = names.get(i).toLowerCase(Locale.ROOT);
                            boolean validated = lookups.get(i).join().values().contains(ip);
                            if (validated && (name.equals(target) || name.endsWith("." + target))) {
                                return match(ptr);
                            }
                        }
                        return done(NO_MATCH);
                    });
        });
    }

    /** A or AAAA, as the client's address is. */
    private CompletionStage<DnsAnswer<InetAddress>> addressLookup(String name) {
        return dns.lookup(name, v4 ? DnsType.A : DnsType.AAAA);
    }

    private boolean anyInNetwork(List<InetAddress> addresses, int cidr4, int cidr6) {
        byte[] client = ip.getAddress();
        for (InetAddress a : addresses) {
            if (SpfRecord.inNetwork(client, a.getAddress(), v4 ? cidr4 : cidr6)) {
                return true;
            }
        }
        return false;
    }
}
