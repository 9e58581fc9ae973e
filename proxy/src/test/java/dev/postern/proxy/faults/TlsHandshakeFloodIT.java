package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.ImapTestClient;
import dev.postern.testkit.TestTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flood of TLS handshakes from one address (127.0.0.66) against an implicit-TLS IMAP listener: 300 connections
 * send a real ClientHello and hang up at once, then 300 more send one and never go on. The per-address limit
 * (20 here) refuses what is over it before any TLS work, the handshake timeout ends the abandoned ones, the live
 * session count never passes the limit, and logins from another address keep working all the while.
 */
class TlsHandshakeFloodIT {
    private static final int LIMIT = 20;
    private static final int FLOOD = 300;

    @TempDir
    static Path dir;

    private static final ClosedSessions metrics = new ClosedSessions();
    private static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        String yaml = PosternHarness.tlsYaml(TestTls.localhost().write(dir))
                + """
                timeouts: {tls-handshake: 2s}
                listeners:
                  - {name: imaps, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: dovecot,
                     limits: {pre-auth-connections-per-client: %d}}
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(FreePorts.next(), LIMIT, DevBackends.IMAP);
        postern = PosternHarness.start(yaml, dir, metrics);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    /** A client's first TLS flight, as a real JDK client sends it. */
    private static byte[] clientHello() throws Exception {
        SSLEngine engine = TestTls.localhost().clientContext().createSSLEngine(TestTls.HOST, 993);
        engine.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.beginHandshake();
        engine.wrap(ByteBuffer.allocate(0), out);
        return Arrays.copyOf(out.array(), out.position());
    }

    private static long loginMillis() {
        long t = System.nanoTime();
        try (ImapTestClient c = ImapTestClient.connectTls(
                postern.port("imaps"), TestTls.localhost().clientContext())) {
            assertThat(c.login(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)).startsWith("OK");
        }
        return (System.nanoTime() - t) / 1_000_000;
    }

    private static Socket hello(InetAddress source, byte[] hello) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(source, 0));
        s.connect(new InetSocketAddress("127.0.0.1", postern.port("imaps")), 5000);
        try {
            s.getOutputStream().write(hello);
        } catch (IOException e) {
            // refused by the limit before the hello went out
        }
        return s;
    }

    @Test
    void abandonedHandshakesAreBoundedAndEndWhileOthersLogIn() throws Exception {
        byte[] hello = clientHello();
        InetAddress attacker = InetAddress.getByName("127.0.0.66");
        long idleLogin = loginMillis();
        List<Socket> abandoned = new ArrayList<>();
        List<Long> logins = new ArrayList<>();
        int maxSessions = 0;
        try {
            for (int i = 0; i < FLOOD; i++) {
                hello(attacker, hello).close();
                if (i % 100 == 99) {
                    logins.add(loginMillis());
                }
            }
            Await.until("the hung-up handshakes ended", Duration.ofSeconds(10), () -> postern.sessions() == 0);
            int refusedBefore = metrics.refused.size();
            int closedBefore = metrics.closed.size();
            for (int i = 0; i < FLOOD; i++) {
                abandoned.add(hello(attacker, hello));
                maxSessions = Math.max(maxSessions, postern.sessions());
                if (i % 100 == 99) {
                    logins.add(loginMillis());
                }
            }
            Await.until(
                    "the handshakes over the per-address limit are refused",
                    Duration.ofSeconds(10),
                    () -> metrics.refused.size() - refusedBefore >= FLOOD - LIMIT);
            System.out.printf(
                    "tls flood: %d hung-up + %d abandoned handshakes from one address; refused %d; at most %d"
                            + " sessions; login %d ms idle, %s ms during the flood%n",
                    FLOOD, FLOOD, metrics.refused.size(), maxSessions, idleLogin, logins);
            assertThat(metrics.refused.subList(refusedBefore, metrics.refused.size()))
                    .hasSize(FLOOD - LIMIT)
                    .allMatch(r -> r.endsWith("pre-auth-per-client"));
            // the attacker's LIMIT held handshakes, one over the limit being refused, and this test's own login
            assertThat(maxSessions).as("live sessions stay at the limit").isLessThanOrEqualTo(LIMIT + 2);
            assertThat(logins).allMatch(ms -> ms < 2000);
            Await.until(
                    "the handshake timeout ended every abandoned handshake",
                    Duration.ofSeconds(10),
                    () -> postern.sessions() == 0);
            assertThat(metrics.closed.subList(closedBefore, metrics.closed.size()).stream()
                            .filter("imaps:tls-handshake-failed"::equals)
                            .count())
                    .as("the abandoned handshakes, closed by the handshake timeout")
                    .isEqualTo(LIMIT);
            assertThat(loginMillis()).isLessThan(2000);
        } finally {
            for (Socket s : abandoned) {
                s.close();
            }
        }
    }
}
