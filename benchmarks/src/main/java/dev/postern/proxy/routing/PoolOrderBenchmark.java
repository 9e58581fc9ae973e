package dev.postern.proxy.routing;

import dev.postern.config.ConfigLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/** The balancer's pick: the order in which a new session tries the backends of a pool. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class PoolOrderBenchmark {
    @Param({"1", "4", "16"})
    public int backends;

    @Param({"round-robin", "least-sessions", "consistent-hash"})
    public String balancer;

    private final String[] users = new String[1024];
    private int next;

    private PoolRuntime pool;

    @Setup
    public void setUp() throws Exception {
        StringBuilder yaml = new StringBuilder(
                """
                listeners:
                  - {name: t, protocol: tcp, bind: "127.0.0.1:1", pool: p}
                pools:
                  - name: p
                    balancer: %s
                    backends:
                """
                        .formatted(balancer));
        for (int i = 0; i < backends; i++) {
            yaml.append("      - {address: \"127.0.0.1:").append(10000 + i).append("\"}\n");
        }
        pool = new PoolRuntime(
                ConfigLoader.parse(yaml.toString(), Path.of(".")).pools().get(0));
        for (int i = 0; i < users.length; i++) {
            users[i] = "user" + i + "@example.com";
        }
    }

    private String user() {
        return users[next++ & (users.length - 1)];
    }

    @Benchmark
    public List<BackendRuntime> order() {
        return pool.order(user());
    }

    /** Both I/O threads of a 2-core machine picking at once (the round-robin position is shared). */
    @Benchmark
    @Threads(2)
    public List<BackendRuntime> orderContended() {
        return pool.order("contended@example.com");
    }
}
