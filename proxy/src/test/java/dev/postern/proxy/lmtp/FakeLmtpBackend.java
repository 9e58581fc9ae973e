package dev.postern.proxy.lmtp;

import dev.postern.testkit.Conversation;
import dev.postern.testkit.FakeLineBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A scripted LMTP server (RFC 2033) on the kit's {@link FakeLineBackend}: it records every connection's commands and
 * messages, answers RCPT and each recipient's end of data as told, and can be told to close in the middle of a
 * message. Tests wait for {@link #idle()} before they assert on what it saw.
 */
final class FakeLmtpBackend implements AutoCloseable {
    /** One connection as the fake saw it. */
    static final class Connection {
        final List<String> commands = new CopyOnWriteArrayList<>();
        final List<String> messages = new CopyOnWriteArrayList<>();
        volatile boolean closed;
    }

    private final FakeLineBackend backend;
    final List<Connection> connections = new CopyOnWriteArrayList<>();

    volatile List<String> keywords = List.of("PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME");
    /** The reply to RCPT TO, by the command's argument. */
    volatile Function<String, String> rcptReply = arg -> "250 2.1.5 fake ok";
    /** The reply to the end of data for one recipient, by its RCPT argument. */
    volatile Function<String, String> endReply = arg -> "250 2.0.0 " + arg + " fake saved";
    /** Close the connection after this many message bytes (-1: never). */
    volatile int closeAfterBytes = -1;

    private final boolean proxyHeader;

    FakeLmtpBackend(boolean proxyHeader) {
        this.proxyHeader = proxyHeader;
        this.backend = FakeLineBackend.start(this::serve);
    }

    int port() {
        return backend.port();
    }

    List<byte[]> proxyHeaders() {
        return backend.proxyHeaders();
    }

    /** Every command of every connection, in order. */
    List<String> commands() {
        List<String> all = new ArrayList<>();
        connections.forEach(c -> all.addAll(c.commands));
        return all;
    }

    /** Every message received, in order. */
    List<String> messages() {
        List<String> all = new ArrayList<>();
        connections.forEach(c -> all.addAll(c.messages));
        return all;
    }

    /** Whether every connection it accepted is closed (Postern said QUIT or went away). */
    boolean idle() {
        return connections.stream().allMatch(c -> c.closed) && backend.failure() == null;
    }

    void clear() {
        connections.clear();
        rcptReply = arg -> "250 2.1.5 fake ok";
        endReply = arg -> "250 2.0.0 " + arg + " fake saved";
        closeAfterBytes = -1;
    }

    private void serve(Conversation conversation) throws IOException {
        Connection c = new Connection();
        connections.add(c);
        List<String> accepted = new ArrayList<>();
        try {
            if (proxyHeader) {
                conversation.readProxyHeader();
            }
            conversation.send("220 fake.lmtp LMTP ready");
            String line;
            while ((line = conversation.line()) != null) {
                c.commands.add(line);
                String[] parts = line.split(" ", 2);
                String verb = parts[0].toUpperCase(Locale.ROOT);
                String arg = parts.length > 1 ? parts[1] : "";
                switch (verb) {
                    case "LHLO" -> conversation.send(lhlo());
                    case "XCLIENT" -> conversation.send("220 fake.lmtp LMTP after XCLIENT");
                    case "MAIL" -> {
                        accepted.clear();
                        conversation.send("250 2.1.0 fake ok");
                    }
                    case "RCPT" -> {
                        String reply = rcptReply.apply(arg);
                        if (reply.startsWith("2")) {
                            accepted.add(arg.substring(3));
                        }
                        conversation.send(reply);
                    }
                    case "DATA" -> {
                        conversation.send("354 go ahead");
                        byte[] message = readData(conversation);
                        if (message == null) {
                            return;
                        }
                        c.messages.add(new String(message, StandardCharsets.UTF_8));
                        for (String rcpt : accepted) {
                            conversation.send(endReply.apply(rcpt));
                        }
                        accepted.clear();
                    }
                    case "RSET" -> {
                        accepted.clear();
                        conversation.send("250 2.0.0 Ok");
                    }
                    case "QUIT" -> {
                        conversation.send("221 2.0.0 Bye");
                        return;
                    }
                    default -> conversation.send("500 5.5.2 fake: unknown command");
                }
            }
        } catch (IOException e) {
            // the peer went away
        } finally {
            conversation.close();
            c.closed = true;
        }
    }

    private String[] lhlo() {
        List<String> k = keywords;
        String[] lines = new String[k.size() + 1];
        lines[0] = "250-fake.lmtp";
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
        byte[] window = {'\r', '\n', 0, 0, 0};
        int ch;
        while ((ch = in.read()) >= 0) {
            b.write(ch);
            System.arraycopy(window, 1, window, 0, 4);
            window[4] = (byte) ch;
            if (window[0] == '\r' && window[1] == '\n' && window[2] == '.' && window[3] == '\r' && window[4] == '\n') {
                byte[] all = b.toByteArray();
                byte[] message = new byte[all.length - 3];
                System.arraycopy(all, 0, message, 0, message.length);
                return message;
            }
            if (limit >= 0 && b.size() >= limit) {
                return null;
            }
        }
        return null;
    }

    @Override
    public void close() {
        backend.close();
    }
}
