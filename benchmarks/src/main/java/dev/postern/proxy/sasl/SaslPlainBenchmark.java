package dev.postern.proxy.sasl;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Decoding one SASL PLAIN initial response (the AUTHENTICATE PLAIN / AUTH PLAIN of every login). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class SaslPlainBenchmark {
    private final String withoutAuthzid = Base64.getEncoder()
            .encodeToString("\0alice@example.test\0correct horse battery staple".getBytes(StandardCharsets.UTF_8));
    private final String withAuthzid = Base64.getEncoder()
            .encodeToString(("alice@example.test\0proxy-master\0m4st3r-p4ssw0rd").getBytes(StandardCharsets.UTF_8));

    @Benchmark
    public Object plain() {
        return SaslServerExchange.start(SaslMechanism.PLAIN).begin(withoutAuthzid);
    }

    @Benchmark
    public Object plainWithAuthzid() {
        return SaslServerExchange.start(SaslMechanism.PLAIN).begin(withAuthzid);
    }

    @Benchmark
    public Object malformed() {
        return SaslServerExchange.start(SaslMechanism.PLAIN).begin("not base64!");
    }
}
