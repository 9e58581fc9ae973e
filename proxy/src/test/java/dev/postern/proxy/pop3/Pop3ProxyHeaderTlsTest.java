package dev.postern.proxy.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.Pop3TestClient;
import java.io.DataInputStream;
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
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backend that wants a PROXY v2 header and implicit TLS (haproxy in front of a POP3S server): the header must go
 * out in clear text before the ClientHello, and carry the client's real address.
 */
class Pop3ProxyHeaderTlsTest {
    private static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    @TempDir
    Path dir;

    @Test
    void theProxyHeaderPrecedesTheTlsHandshake() throws Exception {
        Pop3TestTls tls = new Pop3TestTls(dir);
        try (HeaderThenTlsBackend backend = new HeaderThenTlsBackend(tls.serverContext());
                PosternHarness postern = PosternHarness.start(
                        """
                        listeners:
                          - {name: pop3, protocol: pop3, bind: "127.0.0.1:%d", pool: p, allow-plaintext-auth: true}
                        pools:
                          - {name: p, backends: [{address: "127.0.0.1:%d", tls: implicit, tls-verify: false,
                             identity: proxy-v2}]}
                        """
                                .formatted(FreePorts.next(), backend.port()),
                        dir);
                Pop3TestClient client = Pop3TestClient.connect(postern.port("pop3"))) {
            client.readLine();
            assertThat(client.command("USER alice@example.test")).isEqualTo("+OK");
            assertThat(client.command("PASS alice-pw")).isEqualTo("+OK welcome");
            assertThat(client.command("QUIT")).isEqualTo("+OK bye");
            Connection login =
                    Await.value("the login connection", Duration.ofSeconds(10), () -> backend.connections.stream()
                            .filter(c -> c.commands.contains("QUIT")
                                    && c.commands.stream().anyMatch(l -> l.startsWith("AUTH")))
                            .findFirst()
                            .orElse(null));
            // PROXY v2, PROXY command, TCP over IPv4, source 127.0.0.1
            assertThat(login.header[12]).isEqualTo((byte) 0x21);
            assertThat(login.header[13]).isEqualTo((byte) 0x11);
            assertThat(Arrays.copyOfRange(login.header, 16, 20)).containsExactly(127, 0, 0, 1);
            assertThat(login.commands.get(0)).isEqualTo("CAPA");
        }
    }

    /** What one connection to the fake backend carried. */
    private record Connection(byte[] header, List<String> commands) {}

    /** Reads a PROXY v2 header in clear text, then does TLS and a minimal POP3 login. */
    private static final class HeaderThenTlsBackend implements AutoCloseable {
        final List<Connection> connections = new CopyOnWriteArrayList<>();
        private final ServerSocket server;
        private final SSLContext context;

        HeaderThenTlsBackend(SSLContext context) throws IOException {
            this.context = context;
            server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Thread t = new Thread(this::accept, "proxy-tls-backend");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> serve(s), "proxy-tls-backend-session");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket plain) {
            try (plain) {
                plain.setSoTimeout(10_000);
                DataInputStream in = new DataInputStream(plain.getInputStream());
                byte[] fixed = new byte[16];
                in.readFully(fixed);
                if (!Arrays.equals(Arrays.copyOf(fixed, 12), SIGNATURE)) {
                    return; // not a PROXY header: a TLS ClientHello came first
                }
                int length = ((fixed[14] & 0xff) << 8) | (fixed[15] & 0xff);
                byte[] header = Arrays.copyOf(fixed, 16 + length);
                in.readFully(header, 16, length);
                SSLSocket s = (SSLSocket) context.getSocketFactory()
                        .createSocket(plain, plain.getInetAddress().getHostAddress(), plain.getPort(), false);
                s.setUseClientMode(false);
                s.startHandshake();
                List<String> commands = new CopyOnWriteArrayList<>();
                connections.add(new Connection(header, commands));
                InputStream tlsIn = s.getInputStream();
                OutputStream out = s.getOutputStream();
                out.write("+OK ready\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String line;
                while ((line = readLine(tlsIn)) != null) {
                    commands.add(line);
                    String reply;
                    if (line.equals("CAPA")) {
                        reply = "+OK\r\nUSER\r\nSASL PLAIN\r\n.";
                    } else if (line.startsWith("AUTH PLAIN ")) {
                        reply = "+OK welcome";
                    } else if (line.equals("QUIT")) {
                        reply = "+OK bye";
                    } else {
                        reply = "-ERR what";
                    }
                    out.write((reply + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    if (line.equals("QUIT")) {
                        return;
                    }
                }
            } catch (IOException e) {
                // the peer went away
            }
        }

        private static String readLine(InputStream in) throws IOException {
            StringBuilder sb = new StringBuilder();
            int b;
            while ((b = in.read()) != -1) {
                if (b == '\n') {
                    int end = sb.length() > 0 && sb.charAt(sb.length() - 1) == '\r' ? sb.length() - 1 : sb.length();
                    return sb.substring(0, end);
                }
                sb.append((char) b);
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
