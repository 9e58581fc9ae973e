package dev.postern.proxy.imap;

import dev.postern.testkit.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A scripted IMAP server on loopback for fault injection: each accepted connection runs the test's {@link Script} on
 * its own thread. What the script reads is recorded, and a script that throws makes {@link #failure()} non-null.
 */
final class FakeImapBackend implements AutoCloseable {
    /** What the server does with one connection. */
    @FunctionalInterface
    interface Script {
        void run(Conversation c) throws Exception;
    }

    private final ServerSocket server;
    private volatile Script script;
    private final AtomicInteger connections = new AtomicInteger();
    private final List<String> received = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile Throwable failure;
    private static volatile SSLContext tls;

    FakeImapBackend(Script script) throws IOException {
        this.script = script;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::accept, "fake-imap-backend");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** What the next connections do. */
    void script(Script next) {
        this.script = next;
    }

    /** Forgets what was received and any failure (between tests). */
    void reset() {
        received.clear();
        failure = null;
        connections.set(0);
    }

    int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far. */
    int connections() {
        return connections.get();
    }

    /** Every line (and literal) the scripts read, in order. */
    List<String> received() {
        return List.copyOf(received);
    }

    Throwable failure() {
        return failure;
    }

    private void accept() {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return;
            }
            connections.incrementAndGet();
            sockets.add(s);
            Thread t = new Thread(
                    () -> {
                        Script current = script;
                        try (Conversation c = new Conversation(s)) {
                            current.run(c);
                        } catch (Throwable e) {
                            failure = e;
                        }
                    },
                    "fake-imap-conversation");
            t.setDaemon(true);
            t.start();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }

    /** A TLS server context with a certificate from a throwaway CA (the backend's tls-verify is off). */
    static SSLContext tlsContext() throws Exception {
        if (tls == null) {
            TestCertificates.Leaf leaf =
                    TestCertificates.newAuthority().issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost");
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry(
                    "backend",
                    leaf.privateKey(),
                    new char[0],
                    leaf.chain().toArray(new java.security.cert.Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            tls = context;
        }
        return tls;
    }

    /** One connection, from the server's side. */
    final class Conversation implements AutoCloseable {
        private Socket socket;
        private InputStream in;
        private OutputStream out;

        Conversation(Socket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout(10_000);
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        /** Writes {@code text} as it is, in one write (several lines may go in one TCP segment). */
        void write(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        /** Writes one line, CRLF appended. */
        void send(String line) throws IOException {
            write(line + "\r\n");
        }

        /** Reads bytes up to LF; returns the line without its ending; null at the end of the stream. */
        String line() throws IOException {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0 && b != '\n') {
                buf.write(b);
            }
            if (b < 0 && buf.size() == 0) {
                return null;
            }
            byte[] bytes = buf.toByteArray();
            int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
            String line = new String(bytes, 0, n, StandardCharsets.UTF_8);
            received.add(line);
            return line;
        }

        /** Reads exactly {@code n} bytes (a literal). */
        String bytes(int n) throws IOException {
            byte[] b = in.readNBytes(n);
            String s = new String(b, StandardCharsets.UTF_8);
            received.add(s);
            return s;
        }

        /** Reads exactly {@code n} raw bytes (a PROXY header). */
        byte[] raw(int n) throws IOException {
            return in.readNBytes(n);
        }

        /** The tag of a command line. */
        String tagOf(String line) {
            return line.substring(0, line.indexOf(' '));
        }

        /** Switches to TLS as the server (after answering STARTTLS, or at once for implicit TLS). */
        void startTls() throws Exception {
            SSLSocket ssl = (SSLSocket) tlsContext()
                    .getSocketFactory()
                    .createSocket(socket, socket.getInetAddress().getHostAddress(), socket.getPort(), true);
            ssl.setUseClientMode(false);
            ssl.startHandshake();
            socket = ssl;
            in = ssl.getInputStream();
            out = ssl.getOutputStream();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
