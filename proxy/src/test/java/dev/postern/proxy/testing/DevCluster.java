package dev.postern.proxy.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The three-node cluster of {@code scripts/dev-cluster.sh} (a private redis-server, three Postern processes, HAProxy
 * in front), driven through the script itself: on a block of free ports ({@code POSTERN_CLUSTER_PORT_BASE}) with its
 * state in a directory of the test's ({@code POSTERN_CLUSTER_RUN}), so that it clashes with nothing a developer runs.
 * The ports and paths are read back from the {@code ports.env} the script writes.
 */
public final class DevCluster implements AutoCloseable {
    private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(150);
    /** Ports the script takes from its base: HAProxy, Redis, and three per node at base + 10n. */
    private static final int PORT_BLOCK = 40;

    private final Path run;
    private final Map<String, String> env;
    private final Thread hook;
    private Properties ports;

    private DevCluster(Path run, int base) {
        this.run = run;
        this.env = Map.of(
                "POSTERN_CLUSTER_RUN", run.toString(),
                "POSTERN_CLUSTER_PORT_BASE", Integer.toString(base),
                "POSTERN_CLUSTER_TIMEOUT", "60");
        // should the test JVM end before close(), the processes must not outlive it
        this.hook = new Thread(() -> script("stop"));
    }

    /** Starts the whole cluster ({@code dev-cluster.sh start}) with its state in {@code run}. */
    public static DevCluster start(Path run) {
        DevBackends.ensureStarted();
        DevCluster cluster = new DevCluster(run.toAbsolutePath(), FreePorts.block(PORT_BLOCK));
        Runtime.getRuntime().addShutdownHook(cluster.hook);
        cluster.start();
        return cluster;
    }

    /** {@code dev-cluster.sh start}: brings up whatever is not running and waits for it; fails the test if not. */
    public Processes.Result start() {
        Processes.Result r = script("start");
        assertThat(r.exitCode()).as("dev-cluster.sh start\n%s", r).isZero();
        ports = readPorts();
        return r;
    }

    /** {@code dev-cluster.sh stop PART}: redis, node1, node2, node3, haproxy. */
    public Processes.Result stop(String part) {
        Processes.Result r = script("stop", part);
        assertThat(r.exitCode()).as("dev-cluster.sh stop %s\n%s", part, r).isZero();
        return r;
    }

    /** {@code dev-cluster.sh status}: exit 0 only when every part is up. */
    public Processes.Result status() {
        return script("status");
    }

    private Processes.Result script(String... args) {
        String[] command = new String[args.length + 2];
        command[0] = "bash";
        command[1] = DevBackends.repoRoot().resolve("scripts/dev-cluster.sh").toString();
        System.arraycopy(args, 0, command, 2, args.length);
        return Processes.run(SCRIPT_TIMEOUT, env, null, null, command);
    }

    private Properties readPorts() {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(run.resolve("ports.env"))) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    private String value(String key) {
        String v = ports.getProperty(key);
        if (v == null) {
            throw new IllegalStateException(key + " is not in " + run.resolve("ports.env"));
        }
        return v;
    }

    /** HAProxy's IMAPS port. */
    public int imaps() {
        return Integer.parseInt(value("CLUSTER_IMAPS_PORT"));
    }

    /** Node {@code n}'s (1..3) admin API, with config/dev.yaml's development token. */
    public AdminHttp admin(int n) {
        return new AdminHttp(Integer.parseInt(value("NODE" + n + "_ADMIN_PORT")), value("CLUSTER_ADMIN_TOKEN"));
    }

    /** The plain IMAP port of the Dovecot the nodes' pools use. */
    public int backendImap() {
        return Integer.parseInt(value("CLUSTER_BACKEND_IMAP_PORT"));
    }

    /** The process of node {@code n}, as its pid file names it. */
    public ProcessHandle node(int n) {
        try {
            long pid = Long.parseLong(
                    Files.readString(Path.of(value("NODE" + n + "_PID_FILE"))).trim());
            return ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("node" + n + " is not running"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The processes of every part that has a pid file now (redis, the nodes, haproxy), whether alive or not. */
    public List<ProcessHandle> processes() {
        List<ProcessHandle> processes = new ArrayList<>();
        for (String part : List.of("redis", "node1", "node2", "node3", "haproxy")) {
            try {
                long pid = Long.parseLong(
                        Files.readString(run.resolve(part).resolve("pid")).trim());
                ProcessHandle.of(pid).ifPresent(processes::add);
            } catch (IOException | NumberFormatException e) {
                // not started, or stopped: nothing to account for
            }
        }
        return processes;
    }

    /** What node {@code n} logged so far. */
    public String nodeLog(int n) {
        try {
            return Files.readString(run.resolve("node" + n).resolve("node" + n + ".log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * HAProxy's view of its servers right now, from its stats socket ({@code show stat}): "backend/server" to the
     * status of its health check ({@code UP}, {@code DOWN}, {@code UP 1/2}, ...).
     */
    public Map<String, String> balancerView() {
        String csv;
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(value("CLUSTER_HAPROXY_SOCKET")));
            channel.write(ByteBuffer.wrap("show stat\n".getBytes(StandardCharsets.US_ASCII)));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Channels.newInputStream(channel).transferTo(out);
            csv = out.toString(StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> lines = csv.lines().filter(l -> !l.isBlank()).toList();
        List<String> header = List.of(lines.get(0).replaceFirst("^# ", "").split(",", -1));
        int proxy = header.indexOf("pxname");
        int server = header.indexOf("svname");
        int status = header.indexOf("status");
        Map<String, String> view = new LinkedHashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            if (!f[server].equals("FRONTEND") && !f[server].equals("BACKEND")) {
                view.put(f[proxy] + "/" + f[server], f[status]);
            }
        }
        return view;
    }

    /** A client TLS context that trusts the cluster's certificate (one self-signed certificate for every node). */
    public SSLContext clientTls() {
        try (InputStream in = Files.newInputStream(Path.of(value("CLUSTER_TLS_CERT")))) {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            trust.setCertificateEntry(
                    "dev-cluster", CertificateFactory.getInstance("X.509").generateCertificate(in));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code dev-cluster.sh stop}: every part; the test then checks nothing is left. */
    @Override
    public void close() {
        Processes.Result r = script("stop");
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down already; the hook runs anyway
        }
        assertThat(r.exitCode()).as("dev-cluster.sh stop\n%s", r).isZero();
    }
}
