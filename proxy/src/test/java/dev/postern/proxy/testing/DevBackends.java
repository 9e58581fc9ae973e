package dev.postern.proxy.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real Dovecot and Postfix of {@code scripts/dev-backends.sh}, started once per test JVM (and stopped at its
 * end if this JVM started them; set {@code POSTERN_KEEP_BACKENDS=1} to keep them). Integration tests call {@link
 * #ensureStarted()} first.
 */
public final class DevBackends {
    /**
     * Added to every port, from {@code POSTERN_BACKENDS_PORT_OFFSET} as {@code scripts/dev-backends.sh} reads it, so
     * two checkouts can run their integration tests at once without sharing backends.
     */
    public static final int OFFSET = offsetFromEnvironment();

    /** Dovecot IMAP (STARTTLS available). */
    public static final int IMAP = 2143 + OFFSET;
    /** Dovecot IMAPS. */
    public static final int IMAPS = 2993 + OFFSET;
    /** Dovecot IMAP requiring a PROXY header. */
    public static final int IMAP_PROXY = 2243 + OFFSET;
    /** Dovecot POP3 (STLS available). */
    public static final int POP3 = 2110 + OFFSET;
    /** Dovecot POP3S. */
    public static final int POP3S = 2995 + OFFSET;
    /** Dovecot POP3 requiring a PROXY header. */
    public static final int POP3_PROXY = 2210 + OFFSET;
    /** Dovecot submission (STARTTLS available), relaying to Postfix. */
    public static final int SUBMISSION = 2587 + OFFSET;
    /** Dovecot submission requiring a PROXY header. */
    public static final int SUBMISSION_PROXY = 2687 + OFFSET;
    /** Postfix SMTP (MX-style relay for example.test). */
    public static final int SMTP = 2025 + OFFSET;
    /** Postfix SMTP requiring a PROXY header. */
    public static final int SMTP_PROXY = 2125 + OFFSET;
    /** Dovecot ManageSieve (STARTTLS available, XCLIENT from loopback). */
    public static final int SIEVE = 2419 + OFFSET;
    /** Dovecot LMTP (delivery into the mailboxes; XCLIENT from loopback). */
    public static final int LMTP = 2324 + OFFSET;
    /**
     * Not a backend: where Postfix delivers {@code alice+postern@} and {@code bob+postern@example.test} with {@code
     * lmtp:}, for a test's Postern LMTP listener.
     */
    public static final int POSTERN_LMTP = 2424 + OFFSET;

    public static final String ALICE = "alice@example.test";
    public static final String ALICE_PASSWORD = "alice-pw";
    public static final String BOB = "bob@example.test";
    public static final String BOB_PASSWORD = "bob-pw";
    public static final String MASTER_USER = "proxy-master";
    public static final String MASTER_PASSWORD = "master-pw";

    private static boolean started;

    private static int offsetFromEnvironment() {
        String value = System.getenv("POSTERN_BACKENDS_PORT_OFFSET");
        return value == null || value.isBlank() ? 0 : Integer.parseInt(value.trim());
    }

    private DevBackends() {}

    /** The repository's root directory (holding {@code scripts/}). */
    public static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isRegularFile(dir.resolve("scripts/dev-backends.sh"))) {
                return dir;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException(
                "scripts/dev-backends.sh not found above " + Path.of("").toAbsolutePath());
    }

    private static Path script() {
        return repoRoot().resolve("scripts/dev-backends.sh");
    }

    /** Starts the backends unless they are up already. */
    public static synchronized void ensureStarted() {
        if (started) {
            return;
        }
        Processes.Result status = Processes.run(Duration.ofSeconds(30), "bash", script().toString(), "status");
        if (status.exitCode() != 0) {
            Processes.Result start = Processes.run(Duration.ofSeconds(180), "bash", script().toString(), "start");
            assertThat(start.exitCode()).as("dev-backends.sh start\n%s", start).isZero();
            if (!"1".equals(System.getenv("POSTERN_KEEP_BACKENDS"))) {
                Runtime.getRuntime()
                        .addShutdownHook(new Thread(
                                () -> Processes.run(Duration.ofSeconds(60), "bash", script().toString(), "stop")));
            }
        }
        started = true;
    }

    /**
     * A second, independent Dovecot + Postfix (own state directory, every port shifted by {@code offset}), for tests
     * that need two backends in one pool. Started on first use, stopped at JVM exit unless POSTERN_KEEP_BACKENDS=1.
     */
    public static final class Instance {
        private final int offset;
        private final Path state;
        private boolean started;

        private Instance(int offset, Path state) {
            this.offset = offset;
            this.state = state;
        }

        /** This instance's twin of one of the first instance's ports ({@link #IMAP}, {@link #LMTP}, ...). */
        public int port(int firstInstancePort) {
            return firstInstancePort - OFFSET + offset;
        }

        public Path stateDir() {
            return state;
        }

        private java.util.Map<String, String> env() {
            return java.util.Map.of(
                    "POSTERN_BACKENDS_DIR", state.toString(), "POSTERN_BACKENDS_PORT_OFFSET", String.valueOf(offset));
        }

        public synchronized Instance ensureStarted() {
            if (started) {
                return this;
            }
            Processes.Result status =
                    Processes.run(Duration.ofSeconds(30), env(), null, null, "bash", script().toString(), "status");
            if (status.exitCode() != 0) {
                Processes.Result start =
                        Processes.run(Duration.ofSeconds(180), env(), null, null, "bash", script().toString(), "start");
                assertThat(start.exitCode())
                        .as("dev-backends.sh start\n%s", start)
                        .isZero();
                if (!"1".equals(System.getenv("POSTERN_KEEP_BACKENDS"))) {
                    Runtime.getRuntime().addShutdownHook(new Thread(this::stop));
                }
            }
            started = true;
            return this;
        }

        /**
         * Kills this instance's Dovecot like a crashed machine would: SIGKILL to its master and to every process
         * working inside its state directory (logged-in sessions too, which a clean stop would let run on). {@link
         * #ensureStarted} brings it back.
         */
        public synchronized void crashDovecot() {
            Path root = state.toAbsolutePath().normalize();
            java.util.List<ProcessHandle> killed = new java.util.ArrayList<>();
            ProcessHandle.allProcesses().forEach(p -> {
                try {
                    Path cwd = Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd"));
                    String cmd = p.info().commandLine().orElse("");
                    if (cwd.startsWith(root)
                            && (cmd.contains("dovecot") || cwd.toString().contains("/mail"))) {
                        p.destroyForcibly();
                        killed.add(p);
                    }
                } catch (IOException | UnsupportedOperationException e) {
                    // a process that ended meanwhile, or one we may not inspect
                }
            });
            // returns once every process is gone, so "after the crash" means no piece of this Dovecot is left
            for (ProcessHandle p : killed) {
                try {
                    p.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    throw new IllegalStateException("process " + p.pid() + " did not end after SIGKILL", e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            started = false;
        }

        /** Stops this instance (tests that kill a backend); {@link #ensureStarted} brings it back. */
        public synchronized void stop() {
            Processes.run(Duration.ofSeconds(60), env(), null, null, "bash", script().toString(), "stop");
            started = false;
        }

        public String dovecotLog() {
            return read(state.resolve("dovecot.log"));
        }

        /** Runs doveadm against this instance's Dovecot. */
        public Processes.Result doveadm(String... args) {
            String[] cmd = new String[args.length + 3];
            cmd[0] = "bash";
            cmd[1] = script().toString();
            cmd[2] = "doveadm";
            System.arraycopy(args, 0, cmd, 3, args.length);
            return Processes.run(Duration.ofSeconds(30), env(), null, null, cmd);
        }

        /** True when a message with {@code subject} is in {@code user}'s INBOX on this instance. */
        public boolean hasMessage(String user, String subject) {
            Processes.Result r = doveadm("search", "-u", user, "mailbox", "INBOX", "header", "Subject", subject);
            return r.exitCode() == 0 && !r.stdout().isBlank();
        }
    }

    private static Instance second;

    /** The second instance: ports shifted by 10000 (IMAP 12143, POP3 12110, ...), state in run/backends-2. */
    public static synchronized Instance second() {
        if (second == null) {
            String dir = System.getenv("POSTERN_BACKENDS2_DIR");
            second = new Instance(
                    10000 + OFFSET, dir != null ? Path.of(dir) : repoRoot().resolve("run/backends-2"));
        }
        return second;
    }

    /** Runs doveadm against the private Dovecot. */
    public static Processes.Result doveadm(String... args) {
        String[] cmd = new String[args.length + 3];
        cmd[0] = "bash";
        cmd[1] = script().toString();
        cmd[2] = "doveadm";
        System.arraycopy(args, 0, cmd, 3, args.length);
        return Processes.run(Duration.ofSeconds(30), cmd);
    }

    private static final Pattern MESSAGES = Pattern.compile("messages=(\\d+)");

    /** The number of messages in {@code user}'s INBOX. */
    public static int inboxCount(String user) {
        Processes.Result r = doveadm("mailbox", "status", "-u", user, "messages", "INBOX");
        assertThat(r.exitCode()).as("doveadm mailbox status\n%s", r).isZero();
        Matcher m = MESSAGES.matcher(r.stdout());
        assertThat(m.find()).as("doveadm output: %s", r.stdout()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    /** True when a message with {@code subject} is in {@code user}'s INBOX. */
    public static boolean hasMessage(String user, String subject) {
        Processes.Result r = doveadm("search", "-u", user, "mailbox", "INBOX", "header", "Subject", subject);
        return r.exitCode() == 0 && !r.stdout().isBlank();
    }

    private static Path stateDir() {
        String dir = System.getenv("POSTERN_BACKENDS_DIR");
        return dir != null ? Path.of(dir) : repoRoot().resolve("run/backends");
    }

    /** Dovecot's log so far. */
    public static String dovecotLog() {
        return read(stateDir().resolve("dovecot.log"));
    }

    /** Postfix's log so far. */
    public static String postfixLog() {
        return read(stateDir().resolve("postfix.log"));
    }

    /** The backends' TLS certificate (self-signed, for localhost and 127.0.0.1). */
    public static Path tlsCertificate() {
        return stateDir().resolve("tls/cert.pem");
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
