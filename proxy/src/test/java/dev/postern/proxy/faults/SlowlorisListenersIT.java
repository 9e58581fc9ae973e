package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.Pace;
import dev.postern.testkit.Pop3TestClient;
import dev.postern.testkit.SmtpTestClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link SlowlorisIT}'s attack, small, on the other listener kinds: POP3, submission and the port-25 edge. Three
 * addresses open 8 connections each and trickle a byte of a command that never ends; the per-address limit (5 here)
 * closes 3 of each at once, the pre-auth timeout (2s) ends the other 15, and meanwhile a normal login (a delivery on
 * the edge) from 127.0.0.1 works.
 */
class SlowlorisListenersIT {
    private static final int ADDRESSES = 3;
    private static final int PER_ADDRESS = 8;
    private static final int LIMIT = 5;

    @org.junit.jupiter.api.io.TempDir
    static Path dir;

    private static final ClosedSessions metrics = new ClosedSessions();
    private static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        String common = "timeouts: {pre-auth: 2s}, limits: {pre-auth-connections-per-client: " + LIMIT + "}";
        String yaml =
                """
                listeners:
                  - {name: pop3, protocol: pop3, bind: "127.0.0.1:%1$d", allow-plaintext-auth: true, pool: pop3, %2$s}
                  - {name: submission, protocol: smtp, bind: "127.0.0.1:%3$d", allow-plaintext-auth: true,
                     pool: submission, %2$s}
                  - {name: edge, protocol: smtp, bind: "127.0.0.1:%4$d", pool: postfix, %2$s,
                     smtp: {role: relay, hostname: mx.postern.test, local-domains: [example.test]}}
                pools:
                  - {name: pop3, backends: [{address: "127.0.0.1:%5$d"}]}
                  - {name: submission, backends: [{address: "127.0.0.1:%6$d"}]}
                  - {name: postfix, backends: [{address: "127.0.0.1:%7$d", identity: xclient}]}
                """
                        .formatted(
                                FreePorts.next(),
                                common,
                                FreePorts.next(),
                                FreePorts.next(),
                                DevBackends.POP3,
                                DevBackends.SUBMISSION,
                                DevBackends.SMTP);
        postern = PosternHarness.start(yaml, dir, metrics);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    /** True when the server closed {@code s} (what it sent before, the greeting, is drained). */
    private static boolean closedByServer(Socket s) {
        try {
            s.setSoTimeout(1);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[512];
            while (true) {
                if (in.read(buf) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** A normal client's login (on the edge: a recipient accepted), in milliseconds. */
    private static long login(String listener) {
        long t = System.nanoTime();
        int port = postern.port(listener);
        switch (listener) {
            case "pop3" -> {
                try (Pop3TestClient c = Pop3TestClient.connect(port)) {
                    assertThat(c.readLine()).startsWith("+OK");
                    assertThat(c.command("USER " + DevBackends.ALICE)).startsWith("+OK");
                    assertThat(c.command("PASS " + DevBackends.ALICE_PASSWORD)).startsWith("+OK");
                    c.command("QUIT");
                }
            }
            case "submission" -> {
                try (SmtpTestClient c = SmtpTestClient.connect(port)) {
                    assertThat(c.replyLine()).startsWith("220");
                    c.command("EHLO client.example");
                    String plain = Base64.getEncoder()
                            .encodeToString(("\0" + DevBackends.ALICE + "\0" + DevBackends.ALICE_PASSWORD)
                                    .getBytes(StandardCharsets.UTF_8));
                    assertThat(c.command("AUTH PLAIN " + plain).get(0)).startsWith("235");
                    c.command("QUIT");
                }
            }
            default -> {
                try (SmtpTestClient c = SmtpTestClient.connect(port)) {
                    assertThat(c.replyLine()).startsWith("220");
                    c.command("EHLO client.example");
                    assertThat(c.command("MAIL FROM:<a@client.example>").get(0)).startsWith("250");
                    assertThat(c.command("RCPT TO:<" + DevBackends.BOB + ">").get(0))
                            .startsWith("250");
                    c.command("QUIT");
                }
            }
        }
        return (System.nanoTime() - t) / 1_000_000;
    }

    @ParameterizedTest
    @ValueSource(strings = {"pop3", "submission", "edge"})
    void tricklingConnectionsAreBoundedAndEndWhileOthersLogIn(String listener) throws Exception {
        int base = 40 + 10 * List.of("pop3", "submission", "edge").indexOf(listener);
        List<Socket> trickling = new ArrayList<>();
        try {
            for (int a = 0; a < ADDRESSES; a++) {
                InetAddress source = InetAddress.getByName("127.0.0." + (base + a));
                for (int i = 0; i < PER_ADDRESS; i++) {
                    Socket s = new Socket();
                    s.bind(new InetSocketAddress(source, 0));
                    s.connect(new InetSocketAddress("127.0.0.1", postern.port(listener)), 5000);
                    trickling.add(s);
                }
            }
            String refused = listener + ":pre-auth-per-client";
            Await.until(
                    "the connections over the per-address limit are refused",
                    Duration.ofSeconds(10),
                    () -> metrics.refused.stream().filter(refused::equals).count()
                            == (long) ADDRESSES * (PER_ADDRESS - LIMIT));
            List<Long> logins = new ArrayList<>();
            Pace pace = Pace.every(Duration.ofMillis(300)); // the attacker's
            for (int round = 0; round < 3; round++) {
                for (Socket s : trickling) {
                    try {
                        s.getOutputStream().write(round == 0 ? 'N' : 'O');
                    } catch (IOException e) {
                        // closed by the server: nothing more to trickle
                    }
                }
                logins.add(login(listener));
                pace.awaitTick();
            }
            System.out.printf("slowloris %s: %d connections, logins %s ms%n", listener, trickling.size(), logins);
            assertThat(logins).allMatch(ms -> ms < 2000);
            Await.until(
                    "the pre-auth timeout ended every trickling connection",
                    Duration.ofSeconds(10),
                    () -> trickling.stream().allMatch(SlowlorisListenersIT::closedByServer));
            Await.until(
                    "every trickling session ended with pre-auth-timeout",
                    Duration.ofSeconds(10),
                    () -> metrics.closed.stream()
                                    .filter((listener + ":pre-auth-timeout")::equals)
                                    .count()
                            == (long) ADDRESSES * LIMIT);
        } finally {
            for (Socket s : trickling) {
                s.close();
            }
        }
    }
}
