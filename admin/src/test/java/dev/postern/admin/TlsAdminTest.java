package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.admin.cli.AdminCli;
import dev.postern.testkit.TestTls;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code admin.tls: true}: the API over HTTPS, with a TLS handler per connection from the proxy's supplier. */
class TlsAdminTest {
    @TempDir
    Path dir;

    /** A certificate for 127.0.0.1 from a throwaway CA; writes the CA certificate, which the CLI is told to trust. */
    private static SslContext serverContext(Path caPem) throws Exception {
        TestTls tls = TestTls.issue("127.0.0.1");
        tls.writeCa(caPem);
        return SslContextBuilder.forServer(tls.leaf().keyManagerFactory()).build();
    }

    @Test
    void theApiAndTheCliSpeakTlsAndEachConnectionGetsAFreshHandler() throws Exception {
        Path pem = dir.resolve("admin.pem");
        SslContext ctx = serverContext(pem);
        AtomicInteger handlers = new AtomicInteger();
        try (AdminFixture admin = AdminFixture.startTls(() -> {
            handlers.incrementAndGet();
            return ctx.newHandler(ByteBufAllocator.DEFAULT);
        })) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = AdminCli.run(
                    new String[] {"--url", admin.uri("").toString(), "--cacert", pem.toString(), "revision"},
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8),
                    Map.of("POSTERN_ADMIN_TOKEN", AdminFixture.OPS_TOKEN)::get);

            assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
            assertThat(out.toString(StandardCharsets.UTF_8).strip()).isEqualTo("1");
            assertThat(handlers.get()).isEqualTo(1);

            // without the certificate the CLI refuses to talk (and says so in one line)
            int untrusted = AdminCli.run(
                    new String[] {"--url", admin.uri("").toString(), "revision"},
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8),
                    Map.of("POSTERN_ADMIN_TOKEN", AdminFixture.OPS_TOKEN)::get);
            assertThat(untrusted).isEqualTo(1);
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("postern admin: cannot talk to https://");
        }
        assertThat(List.of(handlers.get())).allMatch(n -> n >= 2);
    }
}
