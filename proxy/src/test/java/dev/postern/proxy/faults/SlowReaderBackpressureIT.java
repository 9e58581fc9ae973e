package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.session.Session;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.Await;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that reads nothing while the backend sends: it FETCHes a 16 MiB message from the real Dovecot through
 * Postern with a small receive window and stops reading. Postern stops reading from Dovecot (auto-read off on the
 * backend channel), so what it holds for the session stays near the write buffer's high water mark instead of growing
 * to the message's size; when the client reads again, the whole message and the tagged OK arrive.
 */
class SlowReaderBackpressureIT {
    private static final int MESSAGE = 16 * 1024 * 1024;
    private static final String MAILBOX = "postern-backpressure";

    @TempDir
    static Path dir;

    private static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        // one large message in a mailbox of its own, appended straight to Dovecot
        Processes.Result r = Processes.python(
                Duration.ofSeconds(60),
                """
                import imaplib, sys
                m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
                m.login("alice@example.test", "alice-pw")
                m.create(sys.argv[2])
                m.select(sys.argv[2])
                typ, data = m.search(None, "ALL")
                if not data[0].split():
                    line = b"x" * 1022 + b"\\r\\n"
                    body = line * (int(sys.argv[3]) // 1024)
                    m.append(sys.argv[2], None, None, b"Subject: big\\r\\n\\r\\n" + body)
                m.logout()
                """,
                String.valueOf(DevBackends.IMAP),
                MAILBOX,
                String.valueOf(MESSAGE));
        assertThat(r.exitCode()).as("%s", r).isZero();
        String yaml =
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: dovecot}
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(FreePorts.next(), DevBackends.IMAP);
        postern = PosternHarness.start(yaml, dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private static String readUntilTagged(BufferedReader in, String tag) throws Exception {
        String line;
        while ((line = in.readLine()) != null && !line.startsWith(tag + " ")) {
            // untagged lines
        }
        return line;
    }

    private static Session theSession() {
        Collection<Session> live = postern.postern().services().sessions().sessions();
        assertThat(live).hasSize(1);
        return live.iterator().next();
    }

    @Test
    void aClientThatStopsReadingPausesTheBackendAndResumesWhenItReads() throws Exception {
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(8 * 1024);
            s.setSoTimeout(30_000);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), postern.port("imap")));
            InputStream raw = s.getInputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(raw, StandardCharsets.ISO_8859_1), 1);
            OutputStream out = s.getOutputStream();
            assertThat(in.readLine()).startsWith("* OK");
            out.write("a LOGIN alice@example.test alice-pw\r\nb SELECT postern-backpressure\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(readUntilTagged(in, "a")).startsWith("a OK");
            assertThat(readUntilTagged(in, "b")).startsWith("b OK");
            out.write("c FETCH 1 BODY[]\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();

            Session session = theSession();
            Await.until(
                    "Postern stops reading from Dovecot",
                    Duration.ofSeconds(10),
                    () -> session.backend() != null
                            && !session.backend().config().isAutoRead());
            // the kernel's send buffer may still grow a little (autotuning) and take a few more chunks: wait until
            // nothing more moves
            long[] last = {-1};
            Await.until("the relay stands still", Duration.ofSeconds(10), Duration.ofMillis(300), () -> {
                long now = session.bytesToClient();
                boolean still = now == last[0] && !session.backend().config().isAutoRead();
                last[0] = now;
                return still;
            });
            long pending = session.client().unsafe().outboundBuffer().totalPendingWriteBytes();
            long relayed = session.bytesToClient();
            System.out.printf(
                    "backpressure: %d bytes queued for the client, %d relayed, of a %d-byte message%n",
                    pending, relayed, MESSAGE);
            assertThat(pending).as("queued for the client").isLessThan(2L * 1024 * 1024);
            // the kernel's send buffer (up to tcp_wmem's 4 MiB) takes some before Postern's own buffer fills
            assertThat(relayed).as("read from Dovecot so far").isLessThan(MESSAGE / 2);

            // the client reads again: everything arrives
            long bytes = 0;
            String line;
            while ((line = in.readLine()) != null && !line.startsWith("c ")) {
                bytes += line.length() + 2;
            }
            assertThat(line).startsWith("c OK");
            assertThat(bytes).isGreaterThan(MESSAGE);
            out.write("d LOGOUT\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
        postern.awaitNoSessions();
    }
}
