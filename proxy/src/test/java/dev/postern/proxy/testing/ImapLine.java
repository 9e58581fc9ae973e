package dev.postern.proxy.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A plain-text IMAP client for tests that hold sessions open: one command at a time, the tagged answer returned.
 * (Python's imaplib is the real client elsewhere; this one keeps a session alive across steps of a Java test.)
 */
public final class ImapLine implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;
    private final String greeting;
    private int tag;

    private ImapLine(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(20_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        out = socket.getOutputStream();
        greeting = in.readLine();
    }

    public static ImapLine connect(int port) {
        try {
            return new ImapLine(port);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String greeting() {
        return greeting;
    }

    /** Sends {@code command} with a fresh tag; returns the tagged answer line (without the tag), or null at EOF. */
    public String command(String command) {
        String t = "t" + (++tag);
        try {
            out.write((t + " " + command + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith(t + " ")) {
                    return line.substring(t.length() + 1);
                }
            }
            return null;
        } catch (IOException e) {
            return null; // the connection went away: the caller asserts on null
        }
    }

    public String login(String user, String password) {
        return command("LOGIN \"" + user + "\" \"" + password + "\"");
    }

    public boolean isOpen() {
        return !socket.isClosed();
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
