package dev.postern.testkit;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * An IMAP client on {@link LineClient}: raw lines and writes for tests that control every byte, and tagged commands
 * for tests that hold a session open across steps (Python's imaplib is the real client of the integration tests).
 */
public final class ImapTestClient extends LineClient {
    private String greeting;
    private boolean firstLineRead;
    private int tag;

    private ImapTestClient(Socket socket) {
        super(socket);
    }

    /** Connects to 127.0.0.1:{@code port}; the greeting is not read yet. */
    public static ImapTestClient connect(int port) {
        return new ImapTestClient(open(null, port));
    }

    /** Connects with TLS from the first byte (IMAPS). */
    public static ImapTestClient connectTls(int port, SSLContext context) {
        return connectTls(null, port, context);
    }

    /**
     * Connects with TLS from the first byte, from the local address {@code source} (127.0.0.2: a client other than
     * the test itself, as a PROXY header or a backend's log names it); null for the default.
     */
    public static ImapTestClient connectTls(InetAddress source, int port, SSLContext context) {
        ImapTestClient client = new ImapTestClient(open(source, port));
        client.startTls(context);
        return client;
    }

    /** The next line without its CRLF; null when the server closed the connection. */
    public String line() {
        return readLine();
    }

    @Override
    public String readLine() {
        String line = super.readLine();
        if (!firstLineRead) {
            firstLineRead = true;
            greeting = line;
        }
        return line;
    }

    /** The server's greeting: the first line it sent (read now if nothing was read yet). */
    public String greeting() {
        if (!firstLineRead) {
            readLine();
        }
        return greeting;
    }

    /** Reads lines up to and including the one tagged {@code tag} (or to the end of the stream). */
    public List<String> until(String tag) {
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = readLine()) != null) {
            lines.add(line);
            if (line.startsWith(tag + " ")) {
                break;
            }
        }
        return lines;
    }

    /**
     * Sends {@code command} with a fresh tag and returns the tagged answer without its tag ({@code OK ...}); null
     * when the connection ends (or fails) first, for tests about sessions that go away.
     */
    public String command(String command) {
        String t = "t" + (++tag);
        try {
            send(t + " " + command);
            List<String> lines = until(t);
            String last = lines.isEmpty() ? null : lines.get(lines.size() - 1);
            return last != null && last.startsWith(t + " ") ? last.substring(t.length() + 1) : null;
        } catch (UncheckedIOException e) {
            return null; // the connection went away: the caller asserts on null
        }
    }

    /** {@code LOGIN} with both arguments quoted; the tagged answer as {@link #command} returns it. */
    public String login(String user, String password) {
        return command("LOGIN \"" + user + "\" \"" + password + "\"");
    }
}
