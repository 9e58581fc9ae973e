package dev.postern.proxy.smtp.edge;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A scripted MTA in the test's JVM, the backend of relay tests: it records every connection's commands and every
 * message's bytes exactly as Postern sent them (dot-stuffing and all), answers per recipient as told, takes DATA
 * (ending only at CRLF.CRLF) and BDAT, and can be told to close in the middle of a message.
 */
final class FakeRelayBackend implements AutoCloseable {
    /** One connection as the fake saw it. */
    static final class Connection {
        final int number;
        final List<String> commands = new CopyOnWriteArrayList<>();
        final List<byte[]> messages = new CopyOnWriteArrayList<>();
        volatile boolean closed;

        Connection(int number) {
            this.number = number;
        }

        String message(int i) {
            return new String(messages.get(i), StandardCharsets.UTF_8);
        }
    }

    private final ServerSocket server;
    private final AtomicInteger counter = new AtomicInteger();
    final List<Connection> connections = new CopyOnWriteArrayList<>();
    volatile List<String> keywords =
            List.of("PIPELINING", "SIZE 10240000", "8BITMIME", "DSN", "CHUNKING", "XCLIENT NAME ADDR PORT PROTO HELO");
    /** The reply to RCPT TO, by the command's argument. */
    volatile Function<String, String> rcptReply = arg -> "250 2.1.5 fake ok";
    /** The reply to MAIL FROM, by the command's argument. */
    volatile Function<String, String> mailReply = arg -> "250 2.1.0 fake ok";
    /** The reply at the end of a message. */
    volatile String endReply = "250 2.0.0 Ok: queued as FAKE";
    /** Close the connection after this many message bytes (-1: never). */
    volatile int closeAfterBytes = -1;

    private volatile boolean closed;
    private final boolean proxyHeader;
    final List<byte[]> proxyHeaders = new CopyOnWriteArrayList<>();

    FakeRelayBackend() throws IOException {
        this(false);
    }

    /** With {@code proxyHeader}, every connection must start with a PROXY v2 header, which is recorded. */
    FakeRelayBackend(boolean proxyHeader) throws IOException {
        this.proxyHeader = proxyHeader;
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread t = new Thread(this::acceptLoop, "fake-relay-accept");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Every command of every connection, in order. */
    List<String> allCommands() {
        List<String> all = new ArrayList<>();
        for (Connection c : connections) {
            all.addAll(c.commands);
        }
        return all;
    }

    /** Every message received, in order. */
    List<String> allMessages() {
        List<String> all = new ArrayList<>();
        for (Connection c : connections) {
            for (int i = 0; i < c.messages.size(); i++) {
                all.add(c.message(i));
            }
        }
        return all;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                Connection c = new Connection(counter.incrementAndGet());
                connections.add(c);
                Thread t = new Thread(() -> serve(s, c), "fake-relay-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket, Connection c) {
        try (Socket s = socket) {
            s.setSoTimeout(30_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            if (proxyHeader) {
                byte[] fixed = in.readNBytes(16);
                int length = ((fixed[14] & 0xff) << 8) | (fixed[15] & 0xff);
                byte[] header = new byte[16 + length];
                System.arraycopy(fixed, 0, header, 0, 16);
                System.arraycopy(in.readNBytes(length), 0, header, 16, length);
                proxyHeaders.add(header);
            }
            reply(out, "220 fake.mx ESMTP");
            ByteArrayOutputStream chunks = null;
            while (true) {
                String line = readLine(in);
                if (line == null) {
                    return;
                }
                c.commands.add(line);
                String[] parts = line.split(" ", 2);
                String verb = parts[0].toUpperCase(Locale.ROOT);
                String arg = parts.length > 1 ? parts[1] : "";
                switch (verb) {
                    case "EHLO" -> {
                        StringBuilder sb = new StringBuilder("250-fake.mx\r\n");
                        List<String> k = keywords;
                        for (int i = 0; i < k.size(); i++) {
                            sb.append(i == k.size() - 1 ? "250 " : "250-")
                                    .append(k.get(i))
                                    .append("\r\n");
                        }
                        if (k.isEmpty()) {
                            sb = new StringBuilder("250 fake.mx\r\n");
                        }
                        write(out, sb.toString());
                    }
                    case "HELO" -> reply(out, "250 fake.mx");
                    case "XCLIENT" -> reply(out, "220 fake.mx ESMTP after XCLIENT");
                    case "MAIL" -> reply(out, mailReply.apply(arg));
                    case "RCPT" -> reply(out, rcptReply.apply(arg));
                    case "DATA" -> {
                        reply(out, "354 End data with <CR><LF>.<CR><LF>");
                        byte[] message = readData(in, s);
                        if (message == null) {
                            return;
                        }
                        c.messages.add(message);
                        reply(out, endReply);
                    }
                    case "BDAT" -> {
                        String[] a = arg.trim().split(" +");
                        int size = Integer.parseInt(a[0]);
                        byte[] chunk = in.readNBytes(size);
                        if (chunk.length < size) {
                            return;
                        }
                        if (chunks == null) {
                            chunks = new ByteArrayOutputStream();
                        }
                        chunks.write(chunk);
                        if (a.length > 1 && a[1].equalsIgnoreCase("LAST")) {
                            c.messages.add(chunks.toByteArray());
                            chunks = null;
                            reply(out, endReply);
                        } else {
                            reply(out, "250 2.0.0 " + size + " octets received");
                        }
                    }
                    case "RSET" -> {
                        chunks = null;
                        reply(out, "250 2.0.0 Ok");
                    }
                    case "QUIT" -> {
                        reply(out, "221 2.0.0 Bye");
                        return;
                    }
                    default -> reply(out, "502 5.5.2 fake: unknown command");
                }
            }
        } catch (IOException e) {
            // the peer went away
        } finally {
            c.closed = true;
        }
    }

    /** The message up to CRLF.CRLF (the final ".CRLF" not included), or null when the connection ends first. */
    private byte[] readData(InputStream in, Socket s) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int limit = closeAfterBytes;
        // the end is CRLF.CRLF, or .CRLF at the very start (an empty message)
        byte[] window = {'\r', '\n', 0, 0, 0};
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            System.arraycopy(window, 1, window, 0, 4);
            window[4] = (byte) c;
            if (window[0] == '\r' && window[1] == '\n' && window[2] == '.' && window[3] == '\r' && window[4] == '\n') {
                byte[] all = b.toByteArray();
                byte[] message = new byte[all.length - 3];
                System.arraycopy(all, 0, message, 0, message.length);
                return message;
            }
            if (limit >= 0 && b.size() >= limit) {
                s.close();
                return null;
            }
        }
        return null;
    }

    private static void reply(OutputStream out, String line) throws IOException {
        write(out, line + "\r\n");
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

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
