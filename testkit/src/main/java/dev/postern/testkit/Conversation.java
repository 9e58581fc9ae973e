package dev.postern.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import javax.net.ssl.SSLSocket;

/**
 * One connection of a {@link FakeLineBackend}, from the server's side. Reads go byte by byte, so nothing past a line
 * is consumed before a TLS upgrade; every read has a deadline, so a script waiting for a line that never comes ends
 * (with the timeout as its failure) instead of hanging the test.
 */
public final class Conversation implements AutoCloseable {
    private static final int TIMEOUT_MILLIS = 30_000;
    private static final byte[] PROXY_V2_SIGNATURE = {
        0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A
    };

    private final FakeLineBackend backend;
    private final FakeLineBackend.Connection connection;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    Conversation(FakeLineBackend backend, Socket socket, FakeLineBackend.Connection connection) throws IOException {
        this.backend = backend;
        this.connection = connection;
        use(socket);
    }

    private void use(Socket s) throws IOException {
        s.setSoTimeout(TIMEOUT_MILLIS);
        this.socket = s;
        this.in = s.getInputStream();
        this.out = s.getOutputStream();
    }

    /** What has been recorded of this connection so far. */
    public FakeLineBackend.Connection connection() {
        return connection;
    }

    /** Writes {@code text} as it is, in one write (several lines may go in one TCP segment). */
    public void write(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Writes {@code lines}, each with CRLF, in one write. */
    public void send(String... lines) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String line : lines) {
            sb.append(line).append("\r\n");
        }
        write(sb.toString());
    }

    /** Sends {@code lines}, then closes the connection (a QUIT or LOGOUT answered). */
    public void sendAndClose(String... lines) throws IOException {
        send(lines);
        close();
    }

    /** Reads up to LF and records the line (without its CRLF); null at the end of the stream. */
    public String line() throws IOException {
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
        backend.record(connection, line);
        return line;
    }

    /** Reads exactly {@code n} bytes (a literal) and records them as one entry. */
    public String bytes(int n) throws IOException {
        String s = new String(raw(n), StandardCharsets.UTF_8);
        backend.record(connection, s);
        return s;
    }

    /** Reads exactly {@code n} bytes, unrecorded; fewer only at the end of the stream. */
    public byte[] raw(int n) throws IOException {
        return in.readNBytes(n);
    }

    /** The input as a stream, for scripts that read their own way (a message body up to CRLF.CRLF, say). */
    public InputStream input() {
        return in;
    }

    /** Reads a PROXY v2 header (which must come first) and records it. */
    public byte[] readProxyHeader() throws IOException {
        byte[] fixed = raw(16);
        if (fixed.length < 16 || !Arrays.equals(Arrays.copyOf(fixed, 12), PROXY_V2_SIGNATURE)) {
            throw new AssertionError("the connection did not start with a PROXY v2 header: "
                    + new String(fixed, StandardCharsets.ISO_8859_1));
        }
        int length = ((fixed[14] & 0xff) << 8) | (fixed[15] & 0xff);
        byte[] header = Arrays.copyOf(fixed, 16 + length);
        byte[] rest = raw(length);
        System.arraycopy(rest, 0, header, 16, rest.length);
        backend.recordProxyHeader(connection, header);
        return header;
    }

    /** The tag of an IMAP command line. */
    public String tagOf(String line) {
        int space = line.indexOf(' ');
        return space < 0 ? line : line.substring(0, space);
    }

    /** Switches to TLS as the server (after answering STARTTLS, or at once for implicit TLS). */
    public void startTls() throws IOException {
        SSLSocket ssl = (SSLSocket) backend.tls()
                .getSocketFactory()
                .createSocket(socket, socket.getInetAddress().getHostAddress(), socket.getPort(), true);
        ssl.setUseClientMode(false);
        ssl.startHandshake();
        use(ssl);
    }

    /** Whether the connection runs TLS now. */
    public boolean isTls() {
        return socket instanceof SSLSocket;
    }

    public boolean isOpen() {
        return !socket.isClosed();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
