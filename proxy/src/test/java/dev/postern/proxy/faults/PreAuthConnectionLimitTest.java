package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Protocol;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.SmtpTestClient;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** limits.pre-auth-connections-per-client: one address cannot hold every pre-auth slot; a login frees its slot. */
class PreAuthConnectionLimitTest {
    @TempDir
    static Path dir;

    private static FakeLineBackend backend;
    private static PosternHarness postern;

    @BeforeAll
    static void start() {
        backend = FakeLineBackend.builder()
                .greeting("220 fake ESMTP")
                .on("EHLO", "250-fake", "250 AUTH PLAIN")
                .on("AUTH", "235 2.7.0 ok")
                .on("QUIT", (c, line) -> c.sendAndClose("221 bye"))
                .otherwise("250 ok")
                .start();
        String yaml =
                """
                listeners:
                  - {name: sub, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: fake,
                     limits: {pre-auth-connections-per-client: 3}}
                pools:
                  - {name: fake, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(FreePorts.next(), backend.port());
        postern = PosternHarness.start(yaml, dir);
        Await.until("the probe learned the pool's keywords", Duration.ofSeconds(10), () -> postern.postern()
                .services()
                .capabilities()
                .get("fake", Protocol.SMTP)
                .isPresent());
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
        backend.close();
    }

    private static SmtpTestClient greeted(String source) throws Exception {
        SmtpTestClient c = SmtpTestClient.connect(InetAddress.getByName(source), postern.port("sub"));
        assertThat(c.replyLine()).startsWith("220 ");
        return c;
    }

    @Test
    void theFourthPreAuthConnectionOfAnAddressIsClosedOthersAndLoggedInOnesAreNot() throws Exception {
        List<SmtpTestClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                held.add(greeted("127.0.0.5"));
            }
            try (SmtpTestClient fourth =
                    SmtpTestClient.connect(InetAddress.getByName("127.0.0.5"), postern.port("sub"))) {
                assertThat(fourth.closedByServer()).isTrue();
            }
            try (SmtpTestClient other = greeted("127.0.0.6")) {
                assertThat(other.command("EHLO other.example").get(0)).startsWith("250");
            }

            SmtpTestClient first = held.get(0);
            first.command("EHLO client.example");
            String plain = Base64.getEncoder().encodeToString("\0alice\0pw".getBytes(StandardCharsets.UTF_8));
            assertThat(first.command("AUTH PLAIN " + plain)).containsExactly("235 2.7.0 Authentication successful");

            // the logged-in session keeps running, and its slot is free for a new pre-auth connection
            try (SmtpTestClient again = greeted("127.0.0.5")) {
                assertThat(again.command("EHLO again.example").get(0)).startsWith("250");
            }
            assertThat(first.command("NOOP")).containsExactly("250 ok");
        } finally {
            held.forEach(SmtpTestClient::close);
        }
    }
}
