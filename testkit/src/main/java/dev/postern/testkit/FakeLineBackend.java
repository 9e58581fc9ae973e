package dev.postern.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;

/**
 * A scriptable line-protocol server on loopback, the fake backend of every front-end test (IMAP, POP3, SMTP and what
 * comes next): for what a real Dovecot or Postfix will not do on purpose, such as bytes injected after a STARTTLS
 * go-ahead, a PROXY header before implicit TLS, or a reply that never comes. One thread per connection.
 *
 * <p>Two ways to script it. Replies by verb, for a backend that answers like a server:
 *
 * <pre>{@code
 * FakeLineBackend pop3 = FakeLineBackend.builder()
 *         .greeting("+OK fake ready")
 *         .on("CAPA", "+OK", "USER", ".")
 *         .on("USER", "+OK")
 *         .on("PASS", "+OK logged in")
 *         .on("QUIT", (c, line) -> c.sendAndClose("+OK bye"))
 *         .otherwise("-ERR unknown")
 *         .start();
 * }</pre>
 *
 * or a {@link Script} that drives each connection step by step, for fault injection. Every line the server reads is
 * recorded, per connection and in one list for all (AUTH lines too: a test knows its own fake passwords); a script
 * or responder that throws (a failed assertion, say) is kept as {@link #failure()}.
 */
public final class FakeLineBackend implements AutoCloseable {
    /** What the server does with one connection. */
    @FunctionalInterface
    public interface Script {
        void run(Conversation c) throws Exception;
    }

    /** The answer to one command line. */
    @FunctionalInterface
    public interface Responder {
        void answer(Conversation c, String line) throws Exception;
    }

    /** One connection as the server saw it. */
    public static final class Connection {
        private final int number;
        private final List<String> lines = new CopyOnWriteArrayList<>();
        private volatile byte[] proxyHeader;
        private volatile boolean closed;

        Connection(int number) {
            this.number = number;
        }

        /** 1 for the first connection accepted. */
        public int number() {
            return number;
        }

        /** The lines (and literals) read on this connection, in order. */
        public List<String> lines() {
            return Collections.unmodifiableList(lines);
        }

        /** The PROXY v2 header the connection started with, or null. */
        public byte[] proxyHeader() {
            return proxyHeader == null ? null : proxyHeader.clone();
        }

        /** Whether the server side is done with the connection. */
        public boolean closed() {
            return closed;
        }

        void record(String line) {
            lines.add(line);
        }

        void proxyHeader(byte[] header) {
            this.proxyHeader = header;
        }

        void markClosed() {
            closed = true;
        }
    }

    private final ServerSocket server;
    /** Null until a conversation needs TLS, unless the test chose a context: minting costs a second. */
    private volatile SSLContext tls;

    private volatile Script script;
    private final AtomicInteger accepted = new AtomicInteger();
    private final List<Connection> connections = new CopyOnWriteArrayList<>();
    private final List<String> received = new CopyOnWriteArrayList<>();
    private final List<byte[]> proxyHeaders = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private FakeLineBackend(Script script, SSLContext tls) {
        this.script = script;
        this.tls = tls;
        try {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on loopback", e);
        }
        Thread acceptor = new Thread(this::accept, "fake-backend-accept-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A server that runs {@code script} for every connection; TLS (if the script asks) with {@link TestTls}. */
    public static FakeLineBackend start(Script script) {
        return builder().script(script).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A responder that answers with {@code lines}, the last one tagged with the command's tag (IMAP): {@code
     * tagged("* CAPABILITY IMAP4rev1", "OK done")} answers {@code a1 CAPABILITY} with the capability line and
     * {@code a1 OK done}.
     */
    public static Responder tagged(String... lines) {
        return (c, line) -> {
            String[] reply = lines.clone();
            reply[reply.length - 1] = c.tagOf(line) + " " + reply[reply.length - 1];
            c.send(reply);
        };
    }

    public int port() {
        return server.getLocalPort();
    }

    /** What the next connections do. */
    public void script(Script next) {
        this.script = next;
    }

    /** Forgets the connections, what was received and any failure (between tests). */
    public void reset() {
        connections.clear();
        received.clear();
        proxyHeaders.clear();
        failure.set(null);
        accepted.set(0);
    }

    /** Connections accepted so far. */
    public int connectionCount() {
        return accepted.get();
    }

    /** The connections accepted so far, in order. */
    public List<Connection> connections() {
        return Collections.unmodifiableList(connections);
    }

    /** Every line (and literal) read on any connection, in order; a live view. */
    public List<String> received() {
        return Collections.unmodifiableList(received);
    }

    /** The PROXY v2 headers connections started with, in order; a live view. */
    public List<byte[]> proxyHeaders() {
        return Collections.unmodifiableList(proxyHeaders);
    }

    /** The first exception a script or responder threw, or null. */
    public Throwable failure() {
        return failure.get();
    }

    SSLContext tls() {
        SSLContext context = tls;
        if (context == null) {
            context = TestTls.localhost().serverContext();
            tls = context;
        }
        return context;
    }

    void record(Connection connection, String line) {
        connection.record(line);
        received.add(line);
    }

    void recordProxyHeader(Connection connection, byte[] header) {
        connection.proxyHeader(header);
        proxyHeaders.add(header);
    }

    private void accept() {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return;
            }
            sockets.add(s);
            Connection connection = new Connection(accepted.incrementAndGet());
            connections.add(connection);
            Script current = script;
            Thread t = new Thread(() -> serve(s, connection, current), "fake-backend-" + connection.number());
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s, Connection connection, Script current) {
        try (Conversation c = new Conversation(this, s, connection)) {
            current.run(c);
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        } finally {
            connection.markClosed();
            sockets.remove(s);
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    /** How the server behaves: replies by verb, or a script of its own. */
    public static final class Builder {
        private final Map<String, Responder> responders = new LinkedHashMap<>();
        private Responder otherwise = (c, line) -> {};
        private String[] greeting = new String[0];
        private boolean tagged;
        private boolean implicitTls;
        private boolean proxyHeader;
        private SSLContext tls;
        private Script script;

        private Builder() {}

        /** The lines the server sends first (after the PROXY header and the TLS handshake, if any). */
        public Builder greeting(String... lines) {
            this.greeting = lines.clone();
            return this;
        }

        /** Commands carry a tag before the verb (IMAP). */
        public Builder tagged() {
            this.tagged = true;
            return this;
        }

        /** Answers commands whose verb (case-insensitive) is {@code verb} with {@code responder}. */
        public Builder on(String verb, Responder responder) {
            responders.put(verb.toUpperCase(Locale.ROOT), responder);
            return this;
        }

        /** Answers commands whose verb is {@code verb} with {@code lines}, in one write. */
        public Builder on(String verb, String... lines) {
            return on(verb, (c, line) -> c.send(lines));
        }

        /** Answers every other command with {@code responder}; by default they get no answer. */
        public Builder otherwise(Responder responder) {
            this.otherwise = responder;
            return this;
        }

        /** Answers every other command with {@code lines}. */
        public Builder otherwise(String... lines) {
            return otherwise((c, line) -> c.send(lines));
        }

        /** The server context for {@link Conversation#startTls()}; by default {@link TestTls#localhost()}'s. */
        public Builder tls(SSLContext serverContext) {
            this.tls = serverContext;
            return this;
        }

        /** Speaks TLS from the first byte (after the PROXY header, if one is expected). */
        public Builder implicitTls() {
            this.implicitTls = true;
            return this;
        }

        /** Expects a PROXY v2 header before anything else, and records it. */
        public Builder proxyHeader() {
            this.proxyHeader = true;
            return this;
        }

        /** Runs {@code script} for each connection instead of the greeting and the replies. */
        public Builder script(Script script) {
            this.script = script;
            return this;
        }

        public FakeLineBackend start() {
            return new FakeLineBackend(script != null ? script : responding(), tls);
        }

        private Script responding() {
            Map<String, Responder> table = Map.copyOf(responders);
            Responder fallback = otherwise;
            String[] hello = greeting.clone();
            int verbAt = tagged ? 1 : 0;
            boolean header = proxyHeader;
            boolean tlsFirst = implicitTls;
            return c -> {
                try {
                    if (header) {
                        c.readProxyHeader();
                    }
                    if (tlsFirst) {
                        c.startTls();
                    }
                    if (hello.length > 0) {
                        c.send(hello);
                    }
                    String line;
                    while (c.isOpen() && (line = c.line()) != null) {
                        String[] words = line.split(" ", verbAt + 2);
                        String verb = words.length > verbAt ? words[verbAt].toUpperCase(Locale.ROOT) : "";
                        table.getOrDefault(verb, fallback).answer(c, line);
                    }
                } catch (IOException e) {
                    // the peer went away
                }
            };
        }
    }
}
