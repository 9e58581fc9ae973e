package dev.postern.testkit;

import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * An SMTP client on {@link LineClient}, for tests that need to control every byte (one write holding several
 * commands, a command right after STARTTLS). Replies are read whole: every line of a multi-line reply.
 */
public final class SmtpTestClient extends LineClient {
    private SmtpTestClient(Socket socket) {
        super(socket);
    }

    /** Connects to 127.0.0.1:{@code port}; the greeting is not read yet. */
    public static SmtpTestClient connect(int port) {
        return connect(null, port);
    }

    /** Connects to 127.0.0.1:{@code port}, from {@code source} if given. */
    public static SmtpTestClient connect(InetAddress source, int port) {
        return new SmtpTestClient(open(source, port));
    }

    /** Connects with TLS from the first byte (implicit TLS, port 465 style). */
    public static SmtpTestClient connectTls(int port, SSLContext context) {
        SmtpTestClient client = connect(port);
        client.startTls(context);
        return client;
    }

    /** Sends one command line and reads its reply. */
    public List<String> command(String line) {
        send(line);
        return reply();
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
}
