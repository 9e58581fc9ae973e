package dev.postern.proxy.smtp;

import dev.postern.testkit.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A scripted SMTP server in the test's JVM, for what the real backends cannot be made to do: inject bytes after its
 * STARTTLS go-ahead, read a PROXY header before implicit TLS, offer arbitrary keywords. One thread per connection;
 * every line it receives is recorded (AUTH lines too: the test knows its own fake passwords).
 */
final class FakeSmtpBackend implements AutoCloseable {
    /** The password the fake accepts for every user. */
    static final String PASSWORD = "fake-pw";

    private final ServerSocket server;
    private final SSLContext tls;
    private final List<String> extraKeywords;
    private final boolean injectAfterStartTls;
    private final boolean implicitTls;
    private final boolean proxyHeader;
    final List<String> received = new CopyOnWriteArrayList<>();
    final List<byte[]> proxyHeaders = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private FakeSmtpBackend(Builder b) throws IOException {
        this.tls = b.tls;
        this.extraKeywords = List.copyOf(b.keywords);
        this.injectAfterStartTls = b.inject;
        this.implicitTls = b.implicitTls;
        this.proxyHeader = b.proxyHeader;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread t = new Thread(this::acceptLoop, "fake-smtp-accept");
        t.setDaemon(true);
        t.start();
    }

    static Builder builder() {
        return new Builder();
    }

    /** How the fake behaves. */
    static final class Builder {
        private SSLContext tls;
        private final List<String> keywords = new ArrayList<>();
        private boolean inject;
        private boolean implicitTls;
        private boolean proxyHeader;

        /** Offers STARTTLS with a certificate from {@code ca}. */
        Builder tls(TestCertificates ca) throws Exception {
            TestCertificates.Leaf leaf = ca.issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost");
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(
                    "k", leaf.privateKey(), new char[0], leaf.chain().toArray(new java.security.cert.Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, new char[0]);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            this.tls = context;
            return this;
        }

        /** EHLO keywords offered besides STARTTLS (which is offered when TLS is set up and not on yet). */
        Builder keywords(String... lines) {
            keywords.addAll(List.of(lines));
            return this;
        }

        /** Answers STARTTLS with {@code 220 go} and {@code 250 injected} in one write. */
        Builder injectAfterStartTls() {
            this.inject = true;
            return this;
        }

        /** Speaks TLS from the first byte (after the PROXY header, if one is expected). */
        Builder implicitTls() {
            this.implicitTls = true;
            return this;
        }

        /** Expects a PROXY v2 header before anything else. */
        Builder proxyHeader() {
            this.proxyHeader = true;
            return this;
        }

        FakeSmtpBackend start() throws IOException {
            return new FakeSmtpBackend(this);
        }
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "fake-smtp-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (Socket plain = socket) {
            plain.setSoTimeout(30_000);
            Socket s = plain;
            if (proxyHeader) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] fixed = new byte[16];
                in.readFully(fixed);
                int length = ((fixed[14] & 0xff) << 8) | (fixed[15] & 0xff);
                byte[] header = new byte[16 + length];
                System.arraycopy(fixed, 0, header, 0, 16);
                in.readFully(header, 16, length);
                proxyHeaders.add(header);
            }
            boolean secure = false;
            if (implicitTls) {
                s = upgrade(s);
                secure = true;
            }
            reply(s, "220 fake.backend ESMTP");
            while (true) {
                String line = readLine(s.getInputStream());
                if (line == null) {
                    return;
                }
                received.add(line);
                String verb = line.split(" ", 2)[0].toUpperCase(java.util.Locale.ROOT);
                switch (verb) {
                    case "EHLO" -> {
                        List<String> lines = new ArrayList<>();
                        lines.add("fake.backend");
                        lines.addAll(extraKeywords);
                        if (tls != null && !secure && !implicitTls) {
                            lines.add("STARTTLS");
                        }
                        StringBuilder sb = new StringBuilder();
                        for (int i = 0; i < lines.size(); i++) {
                            sb.append(i == lines.size() - 1 ? "250 " : "250-")
                                    .append(lines.get(i))
                                    .append("\r\n");
                        }
                        write(s, sb.toString());
                    }
                    case "STARTTLS" -> {
                        write(s, injectAfterStartTls ? "220 go\r\n250 injected\r\n" : "220 go\r\n");
                        s = upgrade(s);
                        secure = true;
                    }
                    case "XCLIENT" -> reply(s, "220 fake.backend ESMTP after XCLIENT");
                    case "AUTH" -> reply(s, auth(line) ? "235 2.7.0 Authentication successful" : "535 5.7.8 no");
                    case "MAIL" -> reply(s, "250 2.1.0 fake sender ok");
                    case "RCPT" -> reply(s, "250 2.1.5 fake recipient ok");
                    case "DATA" -> {
                        reply(s, "354 go ahead");
                        String l;
                        while ((l = readLine(s.getInputStream())) != null && !l.equals(".")) {
                            received.add(l);
                        }
                        reply(s, "250 2.0.0 fake queued");
                    }
                    case "QUIT" -> {
                        reply(s, "221 2.0.0 fake bye");
                        return;
                    }
                    default -> reply(s, "250 2.0.0 fake ok");
                }
            }
        } catch (IOException e) {
            // the peer went away
        }
    }

    private static boolean auth(String line) {
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[1].equalsIgnoreCase("PLAIN")) {
            return false;
        }
        String message = new String(Base64.getDecoder().decode(parts[2]), StandardCharsets.UTF_8);
        return message.endsWith("\0" + PASSWORD);
    }

    private Socket upgrade(Socket s) throws IOException {
        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(s, null, s.getPort(), true);
        ssl.setUseClientMode(false);
        ssl.startHandshake();
        return ssl;
    }

    private static void reply(Socket s, String line) throws IOException {
        write(s, line + "\r\n");
    }

    private static void write(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** One line without CRLF, read byte by byte (nothing past it is consumed); null at the end of the stream. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                String line = b.toString(StandardCharsets.UTF_8);
                return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            }
            b.write(c);
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
    }
}
