package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay's behaviour at its edges, against in-JVM fake backends (fault injection): backpressure, half-close, the
 * idle timeout and graceful shutdown.
 */
class RelayBehaviourIT {
    @TempDir
    Path dir;

    private ServerSocket backend;
    private PosternHarness postern;

    @AfterEach
    void tearDown() throws IOException {
        if (postern != null) {
            postern.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    private void startPostern(String extra) throws IOException {
        backend = new ServerSocket();
        backend.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        postern = PosternHarness.start(
                """
                listeners:
                  - name: plain
                    protocol: tcp
                    bind: "127.0.0.1:%d"
                    tls: none
                    pool: fake
                %s
                pools:
                  - {name: fake, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(FreePorts.next(), extra, backend.getLocalPort()),
                dir);
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), postern.port("plain")), 5000);
        s.setSoTimeout(20_000);
        return s;
    }

    /** A byte pattern that shows reordering or loss: byte i is i mod 251. */
    private static byte patternAt(long i) {
        return (byte) (i % 251);
    }

    @Test
    void aClientThatDoesNotReadStopsTheBackendInsteadOfFillingPosternsMemory() throws Exception {
        startPostern("");
        AtomicLong written = new AtomicLong();
        long limit = 512L << 20;
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (Socket s = backend.accept();
                    OutputStream out = s.getOutputStream()) {
                byte[] chunk = new byte[64 * 1024];
                while (written.get() < limit) {
                    long base = written.get();
                    for (int i = 0; i < chunk.length; i++) {
                        chunk[i] = patternAt(base + i);
                    }
                    out.write(chunk);
                    written.addAndGet(chunk.length);
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        try (Socket client = connect()) {
            // the client reads nothing: the backend must stall once the buffers on the way are full
            long[] last = {-1};
            long[] stableSince = {0};
            Await.until("the backend's writes to stall", Duration.ofSeconds(30), () -> {
                long now = written.get();
                if (now != last[0]) {
                    last[0] = now;
                    stableSince[0] = System.nanoTime();
                    return false;
                }
                return now > 0 && System.nanoTime() - stableSince[0] > TimeUnit.MILLISECONDS.toNanos(500);
            });
            long stalledAt = written.get();
            long posternDirect = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            // kernel socket buffers on both legs account for the rest; without backpressure this is the whole 512 MiB
            assertThat(stalledAt)
                    .as("bytes the backend got rid of while the client read nothing")
                    .isLessThan(64L << 20);
            assertThat(posternDirect).as("Postern's pooled direct memory").isLessThan(32L << 20);

            // now the client reads: everything arrives, in order, and the backend can finish
            InputStream in = client.getInputStream();
            byte[] buf = new byte[256 * 1024];
            long received = 0;
            while (received < limit) {
                int n = in.read(buf);
                assertThat(n).as("stream ended early at %d", received).isPositive();
                for (int i = 0; i < n; i++) {
                    if (buf[i] != patternAt(received + i)) {
                        throw new AssertionError("byte " + (received + i) + " differs");
                    }
                }
                received += n;
            }
            writer.get(30, TimeUnit.SECONDS);
            assertThat(received).isEqualTo(limit);
        }
    }

    @Test
    void halfCloseReachesTheBackendAndItsAnswerStillReachesTheClient() throws Exception {
        startPostern("");
        CompletableFuture<Void> server = CompletableFuture.runAsync(() -> {
            try (Socket s = backend.accept()) {
                byte[] all = s.getInputStream().readAllBytes(); // returns at the client's FIN
                s.getOutputStream().write(("got " + all.length + " bytes\n").getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        try (Socket client = connect()) {
            client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            String answer = new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(answer).isEqualTo("got 5 bytes\n");
        }
        server.get(10, TimeUnit.SECONDS);
        postern.awaitNoSessions();
    }

    @Test
    void anIdleSessionIsClosedAfterTheIdleTimeout() throws Exception {
        startPostern("    timeouts: {idle: 1s}");
        CompletableFuture<Socket> accepted = CompletableFuture.supplyAsync(() -> {
            try {
                return backend.accept();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        try (Socket client = connect();
                Socket server = accepted.get(10, TimeUnit.SECONDS)) {
            // traffic keeps it alive
            for (int i = 0; i < 3; i++) {
                client.getOutputStream().write('x');
                assertThat(server.getInputStream().read()).isEqualTo('x');
            }
            long start = System.nanoTime();
            assertThat(client.getInputStream().read())
                    .as("Postern closes the idle session")
                    .isEqualTo(-1);
            long waited = System.nanoTime() - start;
            assertThat(waited).isGreaterThan(TimeUnit.MILLISECONDS.toNanos(800));
            server.setSoTimeout(5000);
            assertThat(server.getInputStream().read())
                    .as("and the backend side too")
                    .isEqualTo(-1);
        }
    }

    @Test
    void shutdownStopsAcceptingButLetsALiveSessionFinish() throws Exception {
        startPostern("");
        int port = postern.port("plain");
        CompletableFuture<Socket> accepted = CompletableFuture.supplyAsync(() -> {
            try {
                return backend.accept();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        try (Socket client = connect();
                Socket server = accepted.get(10, TimeUnit.SECONDS)) {
            client.getOutputStream().write('a');
            assertThat(server.getInputStream().read()).isEqualTo('a');
            // a probe below may be accepted while the listener closes; its session's backend hangs up at once, as a
            // mail server with nothing to say to an empty connection would, so only the live session keeps the stop
            CompletableFuture.runAsync(() -> {
                while (!backend.isClosed()) {
                    try (Socket extra = backend.accept()) {
                        extra.setSoLinger(true, 0);
                    } catch (IOException e) {
                        return;
                    }
                }
            });

            CompletableFuture<Void> stopping =
                    CompletableFuture.runAsync(() -> postern.postern().stop(Duration.ofSeconds(30)));
            Await.until("new connections refused", Duration.ofSeconds(10), () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), postern.port("plain")), 1000);
                    return false;
                } catch (ConnectException e) {
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            // the live session still relays both ways
            client.getOutputStream().write('b');
            assertThat(server.getInputStream().read()).isEqualTo('b');
            server.getOutputStream().write('c');
            assertThat(client.getInputStream().read()).isEqualTo('c');
            assertThat(stopping).isNotDone();

            // the client leaves; the backend sees it and closes too, as a mail server does
            client.close();
            server.setSoTimeout(5000);
            assertThat(server.getInputStream().read()).isEqualTo(-1);
            server.close();
            stopping.get(30, TimeUnit.SECONDS);
        }
        postern = null;
        assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close())
                .isInstanceOf(ConnectException.class);
    }
}
