package dev.postern.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A blocking line client on a loopback socket, for tests that control every byte: several commands in one write, a
 * command right after STARTTLS, a half-close. It reads byte by byte, so nothing past a line is consumed before a TLS
 * upgrade, and every read has a deadline ({@link #TIMEOUT}): a server that says nothing fails the test instead of
 * hanging it. {@link ImapTestClient}, {@link Pop3TestClient} and {@link SmtpTestClient} add each protocol's replies.
 *
 * <p>I/O errors are {@link UncheckedIOException}s, so test code reads as the dialogue it drives.
 */
public class LineClient implements AutoCloseable {
    /** How long a read or a connect waits. */
    public static final Duration TIMEOUT = Duration.ofSeconds(20);

    private Socket socket;
    private InputStream in;
    private OutputStream out;

    protected LineClient(Socket socket) {
        use(socket);
    }

    /** Connects to 127.0.0.1:{@code port}. */
    public static LineClient connect(int port) {
        return new LineClient(open(null, port));
    }

    /** Connects to 127.0.0.1:{@code port} and does the TLS handshake at once (implicit TLS). */
    public static LineClient connectTls(int port, SSLContext context) {
        LineClient client = connect(port);
        client.startTls(context);
        return client;
    }

    /** A socket connected to 127.0.0.1:{@code port}, from {@code source} if it is not null. */
    protected static Socket open(InetAddress source, int port) {
        Socket s = new Socket();
        try {
            if (source != null) {
                s.bind(new InetSocketAddress(source, 0));
            }
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), (int) TIMEOUT.toMillis());
            return s;
        } catch (IOException e) {
            closeQuietly(s);
            throw new UncheckedIOException("cannot connect to port " + port, e);
        }
    }

    private void use(Socket s) {
        try {
            s.setSoTimeout((int) TIMEOUT.toMillis());
            this.socket = s;
            this.in = s.getInputStream();
            this.out = s.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Switches the connection to TLS as a client that trusts {@code context}'s trust managers and sends
     * {@value TestTls#HOST} as SNI: at once for implicit TLS, or after the server's go-ahead to STARTTLS.
     */
    public void startTls(SSLContext context) {
        try {
            SSLSocket tls =
                    (SSLSocket) context.getSocketFactory().createSocket(socket, TestTls.HOST, socket.getPort(), true);
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName(TestTls.HOST)));
            tls.setSSLParameters(parameters);
            tls.setUseClientMode(true);
            tls.startHandshake();
            use(tls);
        } catch (IOException e) {
            throw new UncheckedIOException("TLS handshake failed", e);
        }
    }

    /** Whether the connection runs TLS now. */
    public boolean isTls() {
        return socket instanceof SSLSocket;
    }

    /** Sends {@code text} as it is, in one write (several lines may go in one TCP segment). */
    public void write(String text) {
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends {@code bytes} as they are, in one write: binary such as a PROXY v2 header. */
    public void writeBytes(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends one line; CRLF is appended. */
    public void send(String line) {
        write(line + "\r\n");
    }

    /** The next line without its CRLF (or bare LF), or null at the end of the stream. */
    public String readLine() {
        try {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                if (b == '\n') {
                    String s = line.toString(StandardCharsets.UTF_8);
                    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
                }
                line.write(b);
            }
            return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
        } catch (SocketTimeoutException e) {
            throw new UncheckedIOException("no line from the server within " + TIMEOUT.toSeconds() + " s", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Everything the server sends until it closes the connection; fails if it does not close within the timeout. */
    public String rest() {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Whether the server closes the connection (or resets it) before sending anything more. Fails if it sends
     * something; false if it neither speaks nor closes within the timeout.
     */
    public boolean closedByServer() {
        try {
            int b = in.read();
            if (b >= 0) {
                throw new AssertionError("expected the connection to close, got: " + (char) b + readLine());
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset, or TLS ended without close_notify
        }
    }

    /** Half-closes: the server reads the end of the stream, and may still answer. */
    public void shutdownOutput() {
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The client's local port (what a server sees as the client's port). */
    public int localPort() {
        return socket.getLocalPort();
    }

    public boolean isOpen() {
        return !socket.isClosed();
    }

    @Override
    public void close() {
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
