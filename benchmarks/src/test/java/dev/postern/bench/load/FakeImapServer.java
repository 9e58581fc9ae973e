package dev.postern.bench.load;

import dev.postern.testkit.FakeLineBackend;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * A scripted IMAP server that answers right, or wrong in one chosen way: the kit's {@link FakeLineBackend} with the
 * replies the load scenarios expect.
 */
final class FakeImapServer implements AutoCloseable {
    /** How the server misbehaves. */
    enum Behaviour {
        GOOD,
        WRONG_TAG_ON_LOGIN,
        NO_ON_LOGIN,
        SHORT_LITERAL,
        CLOSE_AFTER_GREETING
    }

    static final int MESSAGE_SIZE = 5000;
    private static final String GREETING = "* OK [CAPABILITY IMAP4rev1 IDLE] fake ready";

    private final FakeLineBackend server;
    final AtomicInteger logins = new AtomicInteger();

    /** @param tls the server context for implicit TLS; null for plain text */
    FakeImapServer(Behaviour behaviour, SSLContext tls) {
        FakeLineBackend.Builder b = FakeLineBackend.builder();
        if (tls != null) {
            b.tls(tls).implicitTls();
        }
        if (behaviour == Behaviour.CLOSE_AFTER_GREETING) {
            this.server = b.script(c -> {
                        if (tls != null) {
                            c.startTls();
                        }
                        c.sendAndClose(GREETING);
                    })
                    .start();
        } else {
            this.server = answering(b, behaviour).start();
        }
    }

    private FakeLineBackend.Builder answering(FakeLineBackend.Builder b, Behaviour behaviour) {
        String body = "x".repeat(MESSAGE_SIZE);
        return b.tagged()
                .greeting(GREETING)
                .on("LOGIN", (c, line) -> {
                    logins.incrementAndGet();
                    String tag = c.tagOf(line);
                    switch (behaviour) {
                        case WRONG_TAG_ON_LOGIN -> c.send("zz9 OK logged in");
                        case NO_ON_LOGIN -> c.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.");
                        default -> c.send(tag + " OK [CAPABILITY IMAP4rev1 IDLE] Logged in");
                    }
                })
                .on("SELECT", FakeLineBackend.tagged("* 3 EXISTS", "* 0 RECENT", "OK [READ-WRITE] done"))
                .on("FETCH", (c, line) -> {
                    String tag = c.tagOf(line);
                    if (!line.contains("BODY.PEEK[]")) {
                        c.send("* 1 FETCH (FLAGS (\\Seen))", tag + " OK done");
                    } else if (behaviour == Behaviour.SHORT_LITERAL) {
                        // half the literal, then the connection ends
                        c.write("* 1 FETCH (BODY[] {" + MESSAGE_SIZE + "}\r\n" + body.substring(0, MESSAGE_SIZE / 2));
                        c.close();
                    } else {
                        c.write("* 1 FETCH (BODY[] {" + MESSAGE_SIZE + "}\r\n" + body + ")\r\n" + tag
                                + " OK Fetch completed.\r\n");
                    }
                })
                .on("IDLE", "+ idling")
                .on("LOGOUT", (c, line) -> c.sendAndClose("* BYE bye", c.tagOf(line) + " OK Logout completed."))
                .otherwise((c, line) -> c.send(c.tagOf(line) + " BAD unknown"));
    }

    int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.close();
    }
}
