package dev.postern.proxy.pop3;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A bare POP3 client on a socket, for tests that need what real clients never do: several commands in one write,
 * reading byte by byte so nothing is read ahead before a TLS upgrade.
 */
final class Pop3Client implements AutoCloseable {
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    Pop3Client(int port) {
        try {
            socket = new Socket();
            socket.setSoTimeout(10_000);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code text} as is, in one write. */
    void writeRaw(String text) {
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends a command line. */
    void send(String line) {
        writeRaw(line + "\r\n");
    }

    /** The next line without its CRLF, or null at the end of the stream. */
    String readLine() {
        try {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != -1) {
                if (b == '\n') {
                    String s = line.toString(StandardCharsets.UTF_8);
                    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
                }
                line.write(b);
            }
            return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends {@code line} and returns the one-line answer. */
    String command(String line) {
        send(line);
        return readLine();
    }

    /** Reads a multi-line answer's lines after its status line, up to (not including) the ".". */
    java.util.List<String> readList() {
        java.util.List<String> lines = new java.util.ArrayList<>();
        String line;
        while ((line = readLine()) != null && !line.equals(".")) {
            lines.add(line);
        }
        return lines;
    }

    /** True when the server closed the connection (reads to the end; fails on a timeout). */
    boolean closedByServer() {
        try {
            return in.read() == -1;
        } catch (java.net.SocketException e) {
            return true; // reset
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Switches this connection to TLS (after the server's go-ahead). */
    void startTls(SSLContext context) {
        try {
            SSLSocket tls =
                    (SSLSocket) context.getSocketFactory().createSocket(socket, "localhost", socket.getPort(), true);
            tls.setUseClientMode(true);
            tls.startHandshake();
            socket = tls;
            in = tls.getInputStream();
            out = tls.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
