package dev.postern.proxy.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.Pop3TestClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * STLS done right on both sides, with a real Postern on loopback: nothing a client pipelines after STLS is ever
 * executed, nothing a backend sends after its STLS go-ahead is ever believed, and TLS changes what CAPA offers.
 */
class Pop3StartTlsTest {
    @TempDir
    Path dir;

    private PosternHarness start(Pop3TestTls tls, String listener, int backendPort, String backendOptions) {
        String yaml =
                """
                listeners:
                  - {name: pop3, protocol: pop3, bind: "127.0.0.1:%d", pool: p, %s}
                pools:
                  - {name: p, backends: [{address: "127.0.0.1:%d", %s}]}
                """
                                .formatted(FreePorts.next(), listener, backendPort, backendOptions)
                        + tls.yaml();
        return PosternHarness.start(yaml, dir);
    }

    @Test
    void commandsPipelinedAfterStlsAreDroppedWhenThePolicySaysDiscard() {
        Pop3TestTls tls = new Pop3TestTls(dir);
        try (PosternHarness postern =
                        start(tls, "tls: starttls, starttls-pipelining: discard", FreePorts.closed(), "");
                Pop3TestClient client = Pop3TestClient.connect(postern.port("pop3"))) {
            assertThat(client.readLine()).isEqualTo("+OK Postern ready");
            client.write("STLS\r\nUSER alice@example.test\r\n");
            assertThat(client.readLine()).isEqualTo("+OK Begin TLS negotiation now.");
            client.startTls(tls.clientContext());
            // the first answer over TLS is CAPA's: USER was never seen
            assertThat(client.command("CAPA")).isEqualTo("+OK Capability list follows");
            assertThat(client.readList()).contains("USER");
            assertThat(client.command("PASS alice-pw")).startsWith("-ERR No user name given");
        }
    }

    @Test
    void commandsPipelinedAfterStlsCloseTheConnectionByDefault() {
        Pop3TestTls tls = new Pop3TestTls(dir);
        try (PosternHarness postern = start(tls, "tls: starttls", FreePorts.closed(), "");
                Pop3TestClient client = Pop3TestClient.connect(postern.port("pop3"))) {
            assertThat(client.readLine()).isEqualTo("+OK Postern ready");
            client.write("STLS\r\nUSER alice@example.test\r\n");
            // neither the go-ahead nor an answer to USER: the connection just ends
            assertThat(client.readLine()).isNull();
            postern.awaitNoSessions();
        }
    }

    @Test
    void tlsChangesWhatCapaOffersAndASecondStlsIsRefused() {
        Pop3TestTls tls = new Pop3TestTls(dir);
        try (PosternHarness postern = start(tls, "tls: starttls", FreePorts.closed(), "");
                Pop3TestClient client = Pop3TestClient.connect(postern.port("pop3"))) {
            client.readLine();
            assertThat(client.command("CAPA")).startsWith("+OK");
            assertThat(client.readList())
                    .contains("STLS")
                    .doesNotContain("USER")
                    .noneMatch(l -> l.startsWith("SASL"));
            assertThat(client.command("USER alice@example.test")).startsWith("-ERR [SYS/PERM]");
            assertThat(client.command("STLS")).startsWith("+OK");
            client.startTls(tls.clientContext());
            assertThat(client.command("CAPA")).startsWith("+OK");
            assertThat(client.readList())
                    .contains("USER", "SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER", "IMPLEMENTATION Postern")
                    .doesNotContain("STLS");
            assertThat(client.command("STLS")).startsWith("-ERR");
        }
    }

    @Test
    void bytesABackendSendsAfterItsStlsGoAheadAreDropped() throws Exception {
        Pop3TestTls tls = new Pop3TestTls(dir);
        try (InjectingBackend backend = new InjectingBackend(tls.serverContext());
                PosternHarness postern =
                        start(tls, "allow-plaintext-auth: true", backend.port(), "tls: starttls, tls-verify: false");
                Pop3TestClient client = Pop3TestClient.connect(postern.port("pop3"))) {
            client.readLine();
            assertThat(client.command("USER alice@example.test")).isEqualTo("+OK");
            assertThat(client.command("PASS alice-pw")).isEqualTo("+OK fake logged in");
            assertThat(client.command("STAT")).isEqualTo("+OK 0 0");
            assertThat(client.command("QUIT")).isEqualTo("+OK bye");
            // what Postern said over TLS on the login connection: CAPA first, the injected +OK answered nothing
            List<String> login =
                    Await.value("the login connection", Duration.ofSeconds(10), () -> backend.sessions().stream()
                            .filter(s -> s.contains("STAT"))
                            .findFirst()
                            .orElse(null));
            assertThat(login).containsExactly("CAPA", "USER alice@example.test", "PASS alice-pw", "STAT", "QUIT");
        }
    }

    /**
     * A POP3 backend that answers STLS with its go-ahead and a forged "+OK injected" in the same write, then does
     * TLS and records the commands it gets over TLS.
     */
    private static final class InjectingBackend implements AutoCloseable {
        private final ServerSocket server;
        private final SSLContext context;
        private final List<List<String>> sessions = new CopyOnWriteArrayList<>();

        InjectingBackend(SSLContext context) throws IOException {
            this.context = context;
            server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Thread acceptor = new Thread(this::accept, "injecting-backend");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        List<List<String>> sessions() {
            return sessions;
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> serve(s), "injecting-backend-session");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket plain) {
            List<String> commands = new CopyOnWriteArrayList<>();
            try (plain) {
                plain.setSoTimeout(10_000);
                OutputStream out = plain.getOutputStream();
                out.write("+OK fake ready\r\n".getBytes(StandardCharsets.US_ASCII));
                if (!"STLS".equals(readLine(plain.getInputStream()))) {
                    return;
                }
                out.write("+OK\r\n+OK injected\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                SSLSocket s = (SSLSocket) context.getSocketFactory()
                        .createSocket(plain, plain.getInetAddress().getHostAddress(), plain.getPort(), false);
                s.setUseClientMode(false);
                s.startHandshake();
                sessions.add(commands);
                InputStream in = s.getInputStream();
                OutputStream tlsOut = s.getOutputStream();
                String line;
                while ((line = readLine(in)) != null) {
                    commands.add(line);
                    String reply;
                    if (line.equals("CAPA")) {
                        reply = "+OK\r\nTOP\r\nUSER\r\n.";
                    } else if (line.startsWith("USER ")) {
                        reply = "+OK";
                    } else if (line.startsWith("PASS ")) {
                        reply = "+OK fake logged in";
                    } else if (line.equals("STAT")) {
                        reply = "+OK 0 0";
                    } else if (line.equals("QUIT")) {
                        tlsOut.write("+OK bye\r\n".getBytes(StandardCharsets.US_ASCII));
                        tlsOut.flush();
                        return;
                    } else {
                        reply = "-ERR what";
                    }
                    tlsOut.write((reply + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    tlsOut.flush();
                }
            } catch (IOException e) {
                // the peer went away
            }
        }

        private static String readLine(InputStream in) throws IOException {
            List<Byte> bytes = new ArrayList<>();
            int b;
            while ((b = in.read()) != -1) {
                if (b == '\n') {
                    byte[] a = new byte[bytes.size()];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = bytes.get(i);
                    }
                    String s = new String(a, StandardCharsets.US_ASCII);
                    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
                }
                bytes.add((byte) b);
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
