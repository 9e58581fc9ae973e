package dev.postern.bench.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One run's settings, from the command line. Every run is bounded: by {@link #duration()} and {@link #maxOps()}
 * (whichever comes first), and each session by {@link #timeout()}.
 *
 * @param scenario what to do
 * @param host the target's address (loopback only: see {@link #parse})
 * @param port the target's port
 * @param tls how connections use TLS
 * @param tlsVersion the TLS version offered, {@code TLSv1.3} or {@code TLSv1.2}
 * @param concurrency virtual users working at once (for imap-idle: sessions being opened at once)
 * @param duration how long new operations are started (imap-idle: how long the sessions are held)
 * @param maxOps stop starting operations after this many; 0 means no limit
 * @param sessions imap-idle: how many sessions to open and hold
 * @param users the accounts the virtual users log in as, round robin
 * @param mailbox the mailbox SELECTed by the IMAP scenarios
 * @param message imap-fetch-big: the sequence number FETCHed
 * @param expectBytes imap-fetch-big: the literal size every FETCH must return; 0 means any size above 0
 * @param recipient smtp-submit: the RCPT TO address
 * @param messageSize smtp-submit: the size of the message sent
 * @param subject smtp-submit: the message's subject
 * @param threads the generator's event loop threads
 * @param timeout the longest a session (or one operation of imap-fetch-big) may take
 * @param label a free text copied into the result, e.g. the name of the target
 */
public record LoadOptions(
        Scenario scenario,
        String host,
        int port,
        TlsMode tls,
        String tlsVersion,
        int concurrency,
        Duration duration,
        long maxOps,
        int sessions,
        List<Credentials> users,
        String mailbox,
        int message,
        long expectBytes,
        String recipient,
        int messageSize,
        String subject,
        int threads,
        Duration timeout,
        String label) {

    /** A user name and password. */
    public record Credentials(String user, String password) {
        @Override
        public String toString() {
            return user + ":***";
        }
    }

    /** The command line's options; see {@link LoadMain#USAGE}. */
    public static LoadOptions parse(String[] args) {
        if (args.length == 0) {
            throw new IllegalArgumentException("no scenario given");
        }
        Scenario scenario = Scenario.of(args[0]);
        String host = "127.0.0.1";
        int port = -1;
        TlsMode tls = TlsMode.IMPLICIT;
        String tlsVersion = "TLSv1.3";
        int concurrency = 32;
        Duration duration = Duration.ofSeconds(10);
        long maxOps = 0;
        int sessions = 1000;
        List<Credentials> users = new ArrayList<>();
        String mailbox = "INBOX";
        int message = 1;
        long expectBytes = 0;
        String recipient = "bob@example.test";
        int messageSize = 10 * 1024;
        String subject = "postern-load";
        int threads = 1;
        Duration timeout = Duration.ofSeconds(30);
        String label = "";
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--host" -> host = v;
                case "--port" -> port = intValue(a, v, 1, 65535);
                case "--tls" -> tls = TlsMode.of(v);
                case "--tls-version" -> {
                    if (!v.equals("TLSv1.3") && !v.equals("TLSv1.2")) {
                        throw new IllegalArgumentException("--tls-version: TLSv1.3 or TLSv1.2, got '" + v + "'");
                    }
                    tlsVersion = v;
                }
                case "--concurrency", "-c" -> concurrency = intValue(a, v, 1, 100_000);
                case "--duration", "-d" -> duration = Duration.ofMillis((long) (doubleValue(a, v) * 1000));
                case "--max-ops" -> maxOps = intValue(a, v, 0, Integer.MAX_VALUE);
                case "--sessions" -> sessions = intValue(a, v, 1, 1_000_000);
                case "--user" -> users.add(credentials(v));
                case "--users" -> {
                    for (String u : v.split(",")) {
                        users.add(credentials(u));
                    }
                }
                case "--mailbox" -> mailbox = v;
                case "--message" -> message = intValue(a, v, 1, Integer.MAX_VALUE);
                case "--expect-bytes" -> expectBytes = intValue(a, v, 0, Integer.MAX_VALUE);
                case "--rcpt" -> recipient = v;
                case "--message-size" -> messageSize = intValue(a, v, 100, 64 * 1024 * 1024);
                case "--subject" -> subject = v;
                case "--threads" -> threads = intValue(a, v, 1, 64);
                case "--timeout" -> timeout = Duration.ofMillis((long) (doubleValue(a, v) * 1000));
                case "--label" -> label = v;
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (port < 0) {
            throw new IllegalArgumentException("--port is required");
        }
        if (!isLoopback(host)) {
            // a load generator aims at this machine only
            throw new IllegalArgumentException("--host must be a loopback address, got '" + host + "'");
        }
        if (duration.isZero() || duration.isNegative()) {
            throw new IllegalArgumentException("--duration must be more than 0");
        }
        if (users.isEmpty()) {
            users.add(new Credentials("alice@example.test", "alice-pw"));
            users.add(new Credentials("bob@example.test", "bob-pw"));
        }
        return new LoadOptions(
                scenario,
                host,
                port,
                tls,
                tlsVersion,
                concurrency,
                duration,
                maxOps,
                sessions,
                List.copyOf(users),
                mailbox,
                message,
                expectBytes,
                recipient,
                messageSize,
                subject,
                threads,
                timeout,
                label);
    }

    /** The account of virtual user {@code i}. */
    public Credentials user(int i) {
        return users.get(Math.floorMod(i, users.size()));
    }

    static boolean isLoopback(String host) {
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
    }

    private static Credentials credentials(String s) {
        int colon = s.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("a user is USER:PASSWORD, got '" + s.replaceAll(":.*", ":***") + "'");
        }
        return new Credentials(s.substring(0, colon), s.substring(colon + 1));
    }

    private static int intValue(String option, String v, int min, int max) {
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": not a number: '" + v + "'");
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(option + ": " + n + " is not within " + min + ".." + max);
        }
        return (int) n;
    }

    private static double doubleValue(String option, String v) {
        try {
            return Double.parseDouble(v.endsWith("s") ? v.substring(0, v.length() - 1) : v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": not a number of seconds: '" + v + "'");
        }
    }
}
