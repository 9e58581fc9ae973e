package dev.postern.proxy.imap;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/** A bare IMAP client on a socket, for tests that must control every byte. Reads block for at most 10 s. */
final class ImapTestClient implements AutoCloseable {
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    ImapTestClient(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(10_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Writes {@code text} as it is, in one write. */
    void write(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Writes {@code bytes} (one char per byte, as ISO-8859-1 maps them) in one write: binary such as a PROXY header. */
    void writeLatin1(String bytes) throws IOException {
        out.write(bytes.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Reads one line without its CRLF; null when the server closed the connection. */
    String line() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            buf.write(b);
        }
        if (b < 0 && buf.size() == 0) {
            return null;
        }
        String s = buf.toString(StandardCharsets.UTF_8);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** Reads lines up to and including the one tagged {@code tag} (or the end of the stream). */
    List<String> until(String tag) throws IOException {
        List<String> lines = new ArrayList<>();
        String l;
        while ((l = line()) != null) {
            lines.add(l);
            if (l.startsWith(tag + " ")) {
                break;
            }
        }
        return lines;
    }

    /** Everything the server sends until it closes the connection. Fails if it does not within the timeout. */
    String rest() throws IOException {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection", e);
        }
    }

    /** Starts TLS on the connection as a client trusting {@code context}'s trust managers. */
    void startTls(SSLContext context) throws IOException {
        SSLSocket ssl =
                (SSLSocket) context.getSocketFactory().createSocket(socket, "localhost", socket.getPort(), true);
        ssl.setUseClientMode(true);
        ssl.startHandshake();
        socket = ssl;
        in = ssl.getInputStream();
        out = ssl.getOutputStream();
    }

    /** Half-closes: the server reads the end of the stream, and may still answer. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
