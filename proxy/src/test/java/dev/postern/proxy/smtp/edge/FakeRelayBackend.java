package dev.postern.proxy.smtp.edge;

import dev.postern.testkit.Conversation;
import dev.postern.testkit.FakeLineBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A scripted MTA, the backend of relay tests, on the kit's {@link FakeLineBackend}: it records every connection's
 * commands and every message's bytes exactly as Postern sent them (dot-stuffing and all), answers per recipient as
 * told, takes DATA (ending only at CRLF.CRLF) and BDAT, and can be told to close in the middle of a message.
 */
final class FakeRelayBackend implements AutoCloseable {
    /** One connection as the fake saw it. */
    static final class Connection {
        final int number;
        /** The command lines, in order (message bytes are in {@link #messages}). */
        final List<String> commands;

        final List<byte[]> messages = new CopyOnWriteArrayList<>();
        volatile boolean closed;

        Connection(FakeLineBackend.Connection connection) {
            this.number = connection.number();
            this.commands = connection.lines();
        }

        String message(int i) {
            return new String(messages.get(i), StandardCharsets.UTF_8);
        }
    }

    private final FakeLineBackend backend;
    private final Map<Integer, Connection> byNumber = new ConcurrentHashMap<>();
    /** The connections since the last {@code clear()}, each from the moment it was accepted. */
    final List<Connection> connections = new Accepted();

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

    private final boolean proxyHeader;
    final List<byte[]> proxyHeaders;

    FakeRelayBackend() throws IOException {
        this(false);
    }

    /** With {@code proxyHeader}, every connection must start with a PROXY v2 header, which is recorded. */
    FakeRelayBackend(boolean proxyHeader) throws IOException {
        this.proxyHeader = proxyHeader;
        this.backend = FakeLineBackend.start(this::serve);
        this.proxyHeaders = backend.proxyHeaders();
    }

    int port() {
        return backend.port();
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

    private Connection of(FakeLineBackend.Connection connection) {
        return byNumber.computeIfAbsent(connection.number(), n -> new Connection(connection));
    }

    private void serve(Conversation conversation) throws IOException {
        Connection c = of(conversation.connection());
        try {
            if (proxyHeader) {
                conversation.readProxyHeader();
            }
            conversation.send("220 fake.mx ESMTP");
            ByteArrayOutputStream chunks = null;
            String line;
            while ((line = conversation.line()) != null) {
                String[] parts = line.split(" ", 2);
                String verb = parts[0].toUpperCase(Locale.ROOT);
                String arg = parts.length > 1 ? parts[1] : "";
                switch (verb) {
                    case "EHLO" -> conversation.send(ehlo(keywords));
                    case "HELO" -> conversation.send("250 fake.mx");
                    case "XCLIENT" -> conversation.send("220 fake.mx ESMTP after XCLIENT");
                    case "MAIL" -> conversation.send(mailReply.apply(arg));
                    case "RCPT" -> conversation.send(rcptReply.apply(arg));
                    case "DATA" -> {
                        conversation.send("354 End data with <CR><LF>.<CR><LF>");
                        byte[] message = readData(conversation);
                        if (message == null) {
                            return;
                        }
                        c.messages.add(message);
                        conversation.send(endReply);
                    }
                    case "BDAT" -> {
                        String[] a = arg.trim().split(" +");
                        int size = Integer.parseInt(a[0]);
                        byte[] chunk = conversation.raw(size);
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
                            conversation.send(endReply);
                        } else {
                            conversation.send("250 2.0.0 " + size + " octets received");
                        }
                    }
                    case "RSET" -> {
                        chunks = null;
                        conversation.send("250 2.0.0 Ok");
                    }
                    case "QUIT" -> {
                        conversation.send("221 2.0.0 Bye");
                        return;
                    }
                    default -> conversation.send("502 5.5.2 fake: unknown command");
                }
            }
        } catch (IOException e) {
            // the peer went away
        } finally {
            c.closed = true;
        }
    }

    private static String[] ehlo(List<String> k) {
        if (k.isEmpty()) {
            return new String[] {"250 fake.mx"};
        }
        String[] lines = new String[k.size() + 1];
        lines[0] = "250-fake.mx";
        for (int i = 0; i < k.size(); i++) {
            lines[i + 1] = (i == k.size() - 1 ? "250 " : "250-") + k.get(i);
        }
        return lines;
    }

    /** The message up to CRLF.CRLF (the final ".CRLF" not included), or null when the connection ends first. */
    private byte[] readData(Conversation conversation) throws IOException {
        InputStream in = conversation.input();
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
                conversation.close();
                return null;
            }
        }
        return null;
    }

    @Override
    public void close() {
        backend.close();
    }

    /** A view of the kit's connections; {@code clear()} forgets the ones so far. */
    private final class Accepted extends AbstractList<Connection> {
        private volatile int forgotten;

        @Override
        public Connection get(int index) {
            if (index < 0 || index >= size()) {
                throw new IndexOutOfBoundsException(index);
            }
            return of(backend.connections().get(forgotten + index));
        }

        @Override
        public int size() {
            return backend.connections().size() - forgotten;
        }

        @Override
        public void clear() {
            forgotten = backend.connections().size();
        }
    }
}
