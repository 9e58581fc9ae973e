package dev.postern.proxy.dns;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.DnsblConfig;
import dev.postern.config.DnsblReplyFilter;
import dev.postern.config.DnsblSite;
import dev.postern.proxy.testing.TestDns;
import dev.postern.proxy.transport.Transport;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The CPU cost of one DNSBL check of a listed client against a clean one, against the real DNS side of {@link
 * TestDns} (dnsmasq forwarding to rbldnsd on loopback): three lists as a typical edge has them
 * ({@code zen=127.0.0.[2..11]*3}, {@code bl*2}, {@code wl=127.0.[0..255].[1..255]*-2}), no caches (every check asks
 * every list), then the same with the per-client result cache (every check a hit).
 *
 * <p>CPU time is the whole Java process's ({@code OperatingSystemMXBean.getProcessCpuTime}: event loop, JIT, GC) and,
 * separately, the two DNS servers' ({@code /proc/<pid>/stat}), divided by the number of checks. Run:
 *
 * <pre>
 * mvn -B -q -o -pl proxy -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
 *     -Dmdep.outputFile=$PWD/target/test.classpath
 * java -cp proxy/target/test-classes:proxy/target/classes:$(cat target/test.classpath) \
 *     dev.postern.proxy.dns.DnsCheckCostBench [checks] [in-flight]
 * </pre>
 */
public final class DnsCheckCostBench {
    private static final long CLOCK_TICK_NANOS = 10_000_000L; // USER_HZ = 100 on Linux

    private DnsCheckCostBench() {}

    public static void main(String[] args) throws Exception {
        int checks = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int inFlight = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        TestDns dns = TestDns.get();
        List<DnsblSite> sites = List.of(
                new DnsblSite("zen.dnsbl.test", Optional.of(DnsblReplyFilter.parse("127.0.0.[2..11]")), 3),
                new DnsblSite("bl.dnsbl.test", Optional.empty(), 2),
                new DnsblSite("wl.dnsbl.test", Optional.of(DnsblReplyFilter.parse("127.0.[0..255].[1..255]")), -2));
        try (Transport transport = Transport.create(1, true)) {
            NettyDnsClient resolver = NettyDnsClient.create(
                    dns.uncached(Duration.ofSeconds(2)),
                    transport.workerGroup().next(),
                    transport,
                    Ticker.systemTicker());
            DnsblChecker uncached = new DnsblChecker(
                    resolver,
                    new DnsblConfig(sites, 3, 0, Duration.ofSeconds(2), Duration.ZERO),
                    Ticker.systemTicker(),
                    transport.workerGroup().next());
            DnsblChecker cached = new DnsblChecker(
                    resolver,
                    new DnsblConfig(sites, 3, 0, Duration.ofSeconds(2), Duration.ofHours(1)),
                    Ticker.systemTicker(),
                    transport.workerGroup().next());
            InetAddress listed = InetAddress.getByName("192.0.2.99");
            InetAddress clean = InetAddress.getByName("192.0.2.1");
            System.out.printf(
                    Locale.ROOT,
                    "DNSBL check cost: %d checks per case, %d in flight, 3 lists, %s, %d CPUs%n",
                    checks,
                    inFlight,
                    transport.description(),
                    Runtime.getRuntime().availableProcessors());
            // warm-up: JIT, pools, the DNS servers
            run(uncached, listed, checks / 2, inFlight, dns);
            run(uncached, clean, checks / 2, inFlight, dns);
            System.out.printf(
                    Locale.ROOT,
                    "%-30s %12s %12s %12s %10s %8s%n",
                    "case",
                    "java µs/chk",
                    "dns µs/chk",
                    "wall µs/chk",
                    "checks/s",
                    "score");
            for (int round = 0; round < 2; round++) {
                print("listed 192.0.2.99, no cache", run(uncached, listed, checks, inFlight, dns));
                print("clean 192.0.2.1, no cache", run(uncached, clean, checks, inFlight, dns));
            }
            print("listed 192.0.2.99, cache hit", run(cached, listed, checks, inFlight, dns));
            print("clean 192.0.2.1, cache hit", run(cached, clean, checks, inFlight, dns));
            resolver.close();
        }
        System.exit(0);
    }

    private record Measurement(long checks, long javaCpuNanos, long dnsCpuNanos, long wallNanos, int score) {}

    private static Measurement run(DnsblChecker checker, InetAddress client, int checks, int inFlight, TestDns dns)
            throws Exception {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Semaphore slots = new Semaphore(inFlight);
        int[] score = new int[1];
        long dnsStart = dns.serverCpuTicks();
        long cpuStart = os.getProcessCpuTime();
        long wallStart = System.nanoTime();
        CompletableFuture<?> last = CompletableFuture.completedFuture(null);
        for (int i = 0; i < checks; i++) {
            slots.acquire();
            last = checker.check(client).toCompletableFuture().whenComplete((r, e) -> {
                score[0] = r.score();
                if (!r.timedOut().isEmpty()) {
                    throw new IllegalStateException("a list timed out: " + r);
                }
                slots.release();
            });
        }
        slots.acquire(inFlight);
        last.get(10, TimeUnit.SECONDS);
        long wall = System.nanoTime() - wallStart;
        long cpu = os.getProcessCpuTime() - cpuStart;
        long dnsCpu = (dns.serverCpuTicks() - dnsStart) * CLOCK_TICK_NANOS;
        return new Measurement(checks, cpu, dnsCpu, wall, score[0]);
    }

    private static void print(String name, Measurement m) {
        System.out.printf(
                Locale.ROOT,
                "%-30s %12.1f %12.1f %12.1f %10.0f %8d%n",
                name,
                m.javaCpuNanos() / 1000.0 / m.checks(),
                m.dnsCpuNanos() / 1000.0 / m.checks(),
                m.wallNanos() / 1000.0 / m.checks(),
                m.checks() * 1e9 / m.wallNanos(),
                m.score());
    }
}
