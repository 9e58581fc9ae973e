package dev.postern.proxy.smtp;

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
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A blocking SMTP client for tests that need to control every byte (one write holding several commands, a command
 * right after STARTTLS). Reads byte by byte, so nothing past a reply is consumed before a STARTTLS upgrade. Every
 * read has a deadline (the socket timeout).
 */
public final class SmtpTestClient implements AutoCloseable {
    private static final int TIMEOUT_MILLIS = 15_000;

    private Socket socket;
    private InputStream in;
    private OutputStream out;

    private SmtpTestClient(Socket socket) throws IOException {
        use(socket);
    }

    private void use(Socket s) throws IOException {
        this.socket = s;
        s.setSoTimeout(TIMEOUT_MILLIS);
        this.in = s.getInputStream();
        this.out = s.getOutputStream();
    }

    public static SmtpTestClient connect(int port) {
        return connect(null, port);
    }

    /** Connects to 127.0.0.1:{@code port}, from {@code source} if given. */
    public static SmtpTestClient connect(InetAddress source, int port) {
        try {
            Socket s = new Socket();
            if (source != null) {
                s.bind(new InetSocketAddress(source, 0));
            }
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MILLIS);
            return new SmtpTestClient(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Connects with TLS from the first byte (implicit TLS). */
    public static SmtpTestClient connectTls(int port, SSLContext context) {
        SmtpTestClient c = connect(port);
        c.startTls(context);
        return c;
    }

    /** Upgrades the connection to TLS (after a 220 to STARTTLS, or at once for implicit TLS). */
    public void startTls(SSLContext context) {
        try {
            SSLSocket tls =
                    (SSLSocket) context.getSocketFactory().createSocket(socket, "localhost", socket.getPort(), true);
            tls.setUseClientMode(true);
            tls.startHandshake();
            use(tls);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends {@code text} as it is, in one write. */
    public void write(String text) {
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends one command line and reads its reply. */
    public List<String> command(String line) {
        write(line + "\r\n");
        return reply();
    }

    /** Half-closes: sends FIN, keeps reading. */
    public void shutdownOutput() {
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one line, without CRLF; null at the end of the stream. */
    public String readLine() {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) >= 0) {
                if (c == '\n') {
                    String s = b.toString(StandardCharsets.UTF_8);
                    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
                }
                b.write(c);
            }
            return b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one (possibly multi-line) reply. Fails when the connection ends first. */
    public List<String> reply() {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line == null) {
                throw new AssertionError("connection closed; reply so far: " + lines);
            }
            lines.add(line);
            if (line.length() < 4 || line.charAt(3) != '-') {
                return lines;
            }
        }
    }

    /** The first line of the next reply. */
    public String replyLine() {
        return reply().get(0);
    }

    /** True when the server closes the connection before sending anything more; fails if it sends a line. */
    public boolean closedByServer() {
        try {
            int c = in.read();
            if (c >= 0) {
                throw new AssertionError("expected the connection to close, got: " + (char) c + readLine());
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
