package dev.postern.proxy.testing;

import dev.postern.config.DnsConfig;
import dev.postern.config.HostPort;
import dev.postern.testkit.Await;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A real DNS side on loopback for the DNS checks' tests, started once per test JVM and stopped at its exit: dnsmasq
 * on one address (what {@code dns.servers} names, as in production) serves the SPF test world of {@code
 * dns/spf.test.conf} and forwards the DNS list zones under {@code dnsbl.test} to rbldnsd, which serves the lists of
 * {@code dns/*.ip4set} and {@code dns/*.ip6trie}. Names under {@code slow.test} are forwarded to a socket that never
 * answers, for timeouts.
 *
 * <p>Lists: {@code zen.dnsbl.test} (192.0.2.99 127.0.0.2, 192.0.2.100 127.0.0.4, 192.0.2.101 127.0.0.20, 2001:db8::99
 * 127.0.0.2), {@code bl.dnsbl.test} (192.0.2.99, 192.0.2.101: 127.0.0.2), {@code wl.dnsbl.test} (192.0.2.50
 * 127.0.10.3, 192.0.2.99 127.0.10.1), {@code err.dnsbl.test} (everything 127.255.255.254), {@code slow.dnsbl.test}
 * (never answers).
 *
 * <p>dnsmasq logs every query it receives; {@link #queries} counts them, for cache tests.
 */
public final class TestDns {
    /** The zone of the DNS lists, served by rbldnsd. */
    public static final String DNSBL_ZONE = "dnsbl.test";
    /** The SPF test world, served by dnsmasq. */
    public static final String SPF_ZONE = "spf.test";

    private static final List<String> LISTS = List.of(
            "zen.dnsbl.test.ip4set",
            "zen.dnsbl.test.ip6trie",
            "bl.dnsbl.test.ip4set",
            "wl.dnsbl.test.ip4set",
            "err.dnsbl.test.ip4trie");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

    private static TestDns instance;

    private final Path dir;
    private final DatagramSocket blackhole;
    private final Process rbldnsd;
    private final Process dnsmasq;
    private final int port;

    private TestDns(Path dir, DatagramSocket blackhole, Process rbldnsd, Process dnsmasq, int port) {
        this.dir = dir;
        this.blackhole = blackhole;
        this.rbldnsd = rbldnsd;
        this.dnsmasq = dnsmasq;
        this.port = port;
    }

    /** The running DNS side, started on first use. */
    public static synchronized TestDns get() {
        if (instance == null) {
            instance = start();
            TestDns started = instance;
            Runtime.getRuntime().addShutdownHook(new Thread(started::stop, "test-dns-stop"));
        }
        return instance;
    }

    /** dnsmasq's port on 127.0.0.1 (UDP and TCP). */
    public int port() {
        return port;
    }

    /** The one name server to configure. */
    public HostPort server() {
        return new HostPort("127.0.0.1", port);
    }

    /** A UDP address that receives queries and never answers them. */
    public HostPort blackhole() {
        return new HostPort("127.0.0.1", blackhole.getLocalPort());
    }

    /** A resolver configuration for this DNS side. */
    public DnsConfig config(Duration timeout, Duration cacheMinTtl, Duration cacheMaxTtl) {
        return new DnsConfig(List.of(server()), timeout, cacheMinTtl, cacheMaxTtl);
    }

    /** A resolver configuration without a cache. */
    public DnsConfig uncached(Duration timeout) {
        return config(timeout, Duration.ZERO, Duration.ZERO);
    }

    /** How many queries of {@code type} for {@code name} dnsmasq has received so far. */
    public long queries(String type, String name) {
        String needle = "query[" + type + "] " + name + " from ";
        try (Stream<String> lines = Files.lines(dir.resolve("dnsmasq.log"), StandardCharsets.ISO_8859_1)) {
            return lines.filter(l -> l.contains(needle)).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sends one query straight to dnsmasq and waits until its log shows it: every query received before has then
     * been logged too, so {@link #queries} is complete up to this point.
     */
    public void syncLog() {
        String marker = "sync-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + "." + SPF_ZONE;
        rcode(port, marker, 16, Duration.ofSeconds(5));
        Await.until("dnsmasq logged " + marker, Duration.ofSeconds(5), () -> queries("TXT", marker) > 0);
    }

    /** CPU time the two DNS servers have used so far, in clock ticks (from {@code /proc/<pid>/stat}). */
    public long serverCpuTicks() {
        return cpuTicks(rbldnsd.pid()) + cpuTicks(dnsmasq.pid());
    }

    private static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException e) {
            return 0;
        }
    }

    private static TestDns start() {
        try {
            Path dir = Files.createTempDirectory("postern-dns-");
            // rbldnsd started as root reads its zones as its own user
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            for (String list : LISTS) {
                copyResource(list, dir.resolve(list));
            }
            DatagramSocket blackhole = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            AssertionError last = null;
            for (int attempt = 0; attempt < 3; attempt++) {
                try {
                    return start(dir, blackhole);
                } catch (AssertionError e) {
                    // most likely a port taken between choosing and binding it: choose again
                    last = e;
                }
            }
            blackhole.close();
            throw last;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static TestDns start(Path dir, DatagramSocket blackhole) throws IOException {
        int rblPort = FreePorts.next();
        List<String> rbl = new ArrayList<>(
                List.of("rbldnsd", "-n", "-b", "127.0.0.1/" + rblPort, "-w", dir.toString(), "-t", "300", "-c", "1h"));
        for (String list : LISTS) {
            String zone = list.substring(0, list.lastIndexOf('.'));
            String type = list.substring(list.lastIndexOf('.') + 1);
            rbl.add(zone + ":" + type + ":" + list);
        }
        Process rbldnsd = new ProcessBuilder(rbl)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("rbldnsd.out").toFile())
                .start();
        int port = FreePorts.next();
        Path log = dir.resolve("dnsmasq.log");
        Files.deleteIfExists(log);
        Files.createFile(log);
        Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-rw-rw-"));
        String conf = String.join(
                        "\n",
                        "port=" + port,
                        "listen-address=127.0.0.1",
                        "bind-interfaces",
                        "no-resolv",
                        "no-hosts",
                        "no-poll",
                        "pid-file=",
                        "cache-size=0",
                        "local-ttl=300",
                        "log-queries",
                        "log-facility=" + log,
                        "local=/" + SPF_ZONE + "/",
                        "server=/" + DNSBL_ZONE + "/127.0.0.1#" + rblPort,
                        "server=/slow.test/127.0.0.1#" + blackhole.getLocalPort(),
                        "server=/slow.dnsbl.test/127.0.0.1#" + blackhole.getLocalPort(),
                        "")
                + resource("spf.test.conf");
        Path confFile = dir.resolve("dnsmasq.conf");
        Files.writeString(confFile, conf);
        Process dnsmasq = new ProcessBuilder("dnsmasq", "--no-daemon", "--conf-file=" + confFile)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("dnsmasq.out").toFile())
                .start();
        TestDns dns = new TestDns(dir, blackhole, rbldnsd, dnsmasq, port);
        try {
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (true) {
                if (!rbldnsd.isAlive() || !dnsmasq.isAlive()) {
                    throw new AssertionError("a DNS server did not start:\nrbldnsd: " + read(dir.resolve("rbldnsd.out"))
                            + "\ndnsmasq: " + read(dir.resolve("dnsmasq.out")));
                }
                // dnsmasq answers its own zone, and rbldnsd's through it
                if (rcode(port, "pass." + SPF_ZONE, 16, Duration.ofMillis(200)) == 0
                        && rcode(port, "99.2.0.192.zen." + DNSBL_ZONE, 1, Duration.ofMillis(200)) == 0) {
                    return dns;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the DNS servers did not answer within " + START_TIMEOUT);
                }
            }
        } catch (AssertionError | RuntimeException e) {
            rbldnsd.destroy();
            dnsmasq.destroy();
            throw e;
        }
    }

    private void stop() {
        dnsmasq.destroy();
        rbldnsd.destroy();
        blackhole.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind
        }
    }

    /** The response code of one query over UDP; -1 when there is no answer within {@code timeout}. */
    static int rcode(int port, String name, int type, Duration timeout) {
        ByteBuffer q = ByteBuffer.allocate(512);
        int id = ThreadLocalRandom.current().nextInt(0x10000);
        q.putShort((short) id)
                .putShort((short) 0x0100)
                .putShort((short) 1)
                .putShort((short) 0)
                .putInt(0);
        for (String label : name.split("\\.")) {
            q.put((byte) label.length()).put(label.getBytes(StandardCharsets.US_ASCII));
        }
        q.put((byte) 0).putShort((short) type).putShort((short) 1);
        try (DatagramSocket s = new DatagramSocket()) {
            s.setSoTimeout((int) timeout.toMillis());
            s.send(new DatagramPacket(q.array(), q.position(), InetAddress.getLoopbackAddress(), port));
            DatagramPacket reply = new DatagramPacket(new byte[4096], 4096);
            s.receive(reply);
            ByteBuffer r = ByteBuffer.wrap(reply.getData(), 0, reply.getLength());
            return (r.getShort(0) & 0xffff) == id ? r.get(3) & 0x0f : -1;
        } catch (SocketTimeoutException e) {
            return -1;
        } catch (IOException e) {
            // ICMP port unreachable while the server starts
            return -1;
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = TestDns.class.getResourceAsStream("/dns/" + name)) {
            if (in == null) {
                throw new IOException("test resource /dns/" + name + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void copyResource(String name, Path target) throws IOException {
        Files.writeString(target, resource(name));
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }
}
