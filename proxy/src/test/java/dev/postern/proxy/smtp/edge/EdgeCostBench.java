package dev.postern.proxy.smtp.edge;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.DnsblConfig;
import dev.postern.config.DnsblReplyFilter;
import dev.postern.config.DnsblSite;
import dev.postern.proxy.dns.DnsClient;
import dev.postern.proxy.dns.DnsblChecker;
import dev.postern.proxy.dns.NettyDnsClient;
import dev.postern.proxy.testing.TestDns;
import dev.postern.proxy.transport.Transport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a relay listener spends on a client it refuses at once (listed by the DNS lists: {@code 521} instead of the
 * greeting) against one it accepts (greeting, EHLO, MAIL, RCPT with a backend connection set up by XCLIENT, a 1 KiB
 * message, QUIT). CPU time is that of Postern's event loop threads only ({@code ThreadMXBean}), so neither the client
 * threads nor the scripted backend count. Two runs: DNS lists answering in memory (Postern's own work per connection),
 * then real DNS lookups through Postern's resolver to dnsmasq and rbldnsd on loopback ({@link TestDns}, every
 * connection a query: no caches), whose servers' CPU is reported apart. The session log line is off (written to a
 * console it would dominate both).
 *
 * <pre>
 * mvn -B -q -o -pl proxy -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
 *     -Dmdep.outputFile=$PWD/target/test.classpath
 * java -cp proxy/target/test-classes:proxy/target/classes:$(cat target/test.classpath) \
 *     dev.postern.proxy.smtp.edge.EdgeCostBench [connections=20000] [in-flight=16]
 * </pre>
 */
public final class EdgeCostBench {
    private static final long CLOCK_TICK_MICROS = 10_000; // USER_HZ = 100 on Linux
    private static final String MESSAGE = ("x".repeat(78) + "\r\n").repeat(13) + ".\r\n"; // 1 KiB and the end

    private EdgeCostBench() {}

    /** The lists of the run in progress: in memory, or real DNS. */
    private static final class Lists implements ClientReputation {
        volatile ClientReputation current;

        @Override
        public CompletionStage<Verdict> check(InetAddress client) {
            return current.check(client);
        }
    }

    private static ClientReputation inMemory(boolean listed) {
        return client -> CompletableFuture.completedFuture(
                listed
                        ? new ClientReputation.Verdict(3, List.of("zen.dnsbl.test"), List.of())
                        : ClientReputation.Verdict.CLEAN);
    }

    /**
     * The real lists: {@code err.dnsbl.test} lists every address (127.255.255.254); the filter {@code
     * 127.0.0.[2..11]} makes that a miss, so the same query passes the client. No result cache: every connection asks.
     */
    private static ClientReputation realDns(DnsClient dns, Transport transport, boolean listed) {
        DnsblSite site = new DnsblSite(
                "err.dnsbl.test",
                listed ? Optional.empty() : Optional.of(DnsblReplyFilter.parse("127.0.0.[2..11]")),
                3);
        DnsblConfig config = new DnsblConfig(List.of(site), 3, 0, Duration.ofSeconds(2), Duration.ZERO);
        return new DnsListReputation(new DnsblChecker(
                dns, config, Ticker.systemTicker(), transport.workerGroup().next()));
    }

    public static void main(String[] args) throws Exception {
        // the one INFO line per session goes to the console here, which would be most of what is measured
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("postern.session"))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        int connections = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int inFlight = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        Path dir = Files.createTempDirectory("relay-bench");
        Lists lists = new Lists();
        try (FakeRelayBackend backend = new FakeRelayBackend()) {
            String yaml =
                    """
                    listeners:
                      - {name: mx, protocol: smtp, bind: "127.0.0.1:0", pool: fake,
                         smtp: {role: relay, hostname: mx.test, local-domains: [example.test], passed-cache: 0s,
                                dnsbl: {sites: [zen.dnsbl.test*3], threshold: 3, timeout: 2s},
                                limits: {connections-per-client: 0, connections-per-minute: 0}}}
                    pools:
                      - {name: fake, backends: [{address: "127.0.0.1:%d", identity: xclient}]}
                    """
                            .formatted(backend.port());
            TestDns testDns = TestDns.get();
            try (RelayTestServer server = RelayTestServer.start(yaml, dir, lists, SenderPolicy.NONE);
                    Transport dnsLoop = Transport.create(1, true)) {
                server.awaitKeywords("fake");
                int port = server.port("mx");
                DnsClient dns = NettyDnsClient.create(testDns.uncached(Duration.ofSeconds(2)), dnsLoop);
                ClientReputation[][] variants = {
                    {inMemory(true), inMemory(false)},
                    {realDns(dns, dnsLoop, true), realDns(dns, dnsLoop, false)}
                };
                String[] names = {"lists in memory", "real DNS (dnsmasq + rbldnsd, uncached)"};
                // warm up every path (JIT) first
                for (ClientReputation[] v : variants) {
                    lists.current = v[0];
                    run(port, Math.min(connections, 5000), inFlight, false);
                    lists.current = v[1];
                    run(port, Math.min(connections, 2000), inFlight, true);
                }
                System.out.printf(
                        Locale.ROOT, "%-30s %8s %10s %12s %14s%n", "", "conns", "wall ms", "cpu ms", "cpu us/conn");
                for (int i = 0; i < variants.length; i++) {
                    System.out.println(names[i]);
                    lists.current = variants[i][0];
                    long dnsBefore = testDns.serverCpuTicks();
                    Result refused = run(port, connections, inFlight, false);
                    long dnsRefused = testDns.serverCpuTicks() - dnsBefore;
                    lists.current = variants[i][1];
                    dnsBefore = testDns.serverCpuTicks();
                    Result accepted = run(port, connections, inFlight, true);
                    long dnsAccepted = testDns.serverCpuTicks() - dnsBefore;
                    print("  refused (listed, 521)", refused);
                    print("  accepted (1 KiB message)", accepted);
                    System.out.printf(
                            Locale.ROOT,
                            "  accepted/refused: %.1fx; DNS servers' CPU: %.1f / %.1f us per connection%n",
                            accepted.cpuMicrosPerConnection() / refused.cpuMicrosPerConnection(),
                            dnsRefused * CLOCK_TICK_MICROS / (double) connections,
                            dnsAccepted * CLOCK_TICK_MICROS / (double) connections);
                }
            }
        }
    }

    private record Result(int connections, long wallNanos, long cpuNanos) {
        double cpuMicrosPerConnection() {
            return cpuNanos / 1000.0 / connections;
        }
    }

    private static void print(String what, Result r) {
        System.out.printf(
                Locale.ROOT,
                "%-30s %8d %10d %12d %14.1f%n",
                what,
                r.connections(),
                r.wallNanos() / 1_000_000,
                r.cpuNanos() / 1_000_000,
                r.cpuMicrosPerConnection());
    }

    private static Result run(int port, int connections, int inFlight, boolean deliver) throws Exception {
        AtomicInteger left = new AtomicInteger(connections);
        ExecutorService clients = Executors.newFixedThreadPool(inFlight);
        long cpuBefore = posternCpu();
        long start = System.nanoTime();
        Future<?>[] workers = new Future<?>[inFlight];
        for (int i = 0; i < inFlight; i++) {
            workers[i] = clients.submit(() -> {
                while (left.getAndDecrement() > 0) {
                    session(port, deliver);
                }
                return null;
            });
        }
        for (Future<?> w : workers) {
            w.get();
        }
        long wall = System.nanoTime() - start;
        long cpu = posternCpu() - cpuBefore;
        clients.shutdown();
        return new Result(connections, wall, cpu);
    }

    /** CPU time so far of Postern's event loop threads (the acceptor included). */
    private static long posternCpu() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith("postern-")) {
                long t = threads.getThreadCpuTime(info.getThreadId());
                if (t > 0) {
                    total += t;
                }
            }
        }
        return total;
    }

    private static void session(int port, boolean deliver) throws IOException {
        try (Socket s = new Socket()) {
            s.setSoTimeout(10_000);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String greeting = reply(in);
            if (!deliver) {
                expect(greeting, "521 ");
                return;
            }
            expect(greeting, "220 ");
            out.write(("EHLO client.example\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            expect(reply(in), "250");
            expect(reply(in), "250");
            expect(reply(in), "250");
            expect(reply(in), "354");
            out.write((MESSAGE + "QUIT\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            expect(reply(in), "250");
            expect(reply(in), "221");
        }
    }

    private static void expect(String reply, String prefix) throws IOException {
        if (!reply.startsWith(prefix)) {
            throw new IOException("expected " + prefix + ", got " + reply);
        }
    }

    /** One reply (its last line). */
    private static String reply(InputStream in) throws IOException {
        while (true) {
            String line = line(in);
            if (line == null) {
                throw new IOException("connection closed");
            }
            if (line.length() < 4 || line.charAt(3) != '-') {
                return line;
            }
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.US_ASCII);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.US_ASCII);
    }
}
