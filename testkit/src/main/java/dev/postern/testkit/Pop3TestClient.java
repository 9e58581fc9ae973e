package dev.postern.testkit;

import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * A POP3 client on {@link LineClient}, for what real clients never do: several commands in one write, a command
 * right after STLS. Answers are one status line, or a status line and a list up to the lone dot.
 */
public final class Pop3TestClient extends LineClient {
    private Pop3TestClient(Socket socket) {
        super(socket);
    }

    /** Connects to 127.0.0.1:{@code port}; the greeting is not read yet. */
    public static Pop3TestClient connect(int port) {
        return new Pop3TestClient(open(null, port));
    }

    /** Connects with TLS from the first byte (POP3S). */
    public static Pop3TestClient connectTls(int port, SSLContext context) {
        Pop3TestClient client = connect(port);
        client.startTls(context);
        return client;
    }

    /** Sends {@code line} and returns the status line of the answer. */
    public String command(String line) {
        send(line);
        return readLine();
    }

    /** Reads the lines of a multi-line answer after its status line, up to (not including) the ".". */
    public List<String> readList() {
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = readLine()) != null && !line.equals(".")) {
            lines.add(line);
        }
        return lines;
    }
}
