package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.admin.cli.AdminCli;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code admin.tls: true}: the API over HTTPS, with a TLS handler per connection from the proxy's supplier. */
class TlsAdminTest {
    @TempDir
    Path dir;

    /** A self-signed certificate for 127.0.0.1, made with the JDK's keytool; returns the PEM of the certificate. */
    private SslContext serverContext(Path pem) throws Exception {
        Path keystore = dir.resolve("admin.p12");
        String keytool =
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(
                keytool,
                "-genkeypair",
                "-alias",
                "admin",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=postern-admin-test",
                "-ext",
                "SAN=ip:127.0.0.1",
                "-validity",
                "2",
                "-keystore",
                keystore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                "test-pass",
                "-keypass",
                "test-pass");
        run(
                keytool,
                "-exportcert",
                "-rfc",
                "-alias",
                "admin",
                "-keystore",
                keystore.toString(),
                "-storepass",
                "test-pass",
                "-file",
                pem.toString());
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, "test-pass".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "test-pass".toCharArray());
        return SslContextBuilder.forServer(kmf).build();
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
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
