package dev.postern.bench.load;

import java.io.PrintStream;

/**
 * The load generator's command line: {@code java -jar postern-load.jar SCENARIO --port N [options]}. Prints one JSON
 * line per run on stdout (see {@link RunResult#toJson()}); progress and errors go to stderr.
 */
public final class LoadMain {
    static final String USAGE =
            """
            usage: postern-load SCENARIO --port PORT [options]
            scenarios:
              imap-login      connect, greeting, LOGIN, SELECT, FETCH 1 (FLAGS), LOGOUT; an op is a session
              imap-fetch-big  log in once per virtual user, then FETCH n BODY.PEEK[] again and again; an op is a FETCH
              imap-idle       open --sessions logged-in sessions in IDLE, hold them for --duration
              pop3-login      connect, greeting, USER, PASS, STAT, QUIT; an op is a session
              smtp-submit     connect, EHLO, AUTH PLAIN, MAIL, RCPT, DATA (--message-size), QUIT; an op is a session
            options:
              --host ADDR           loopback address of the target (default 127.0.0.1)
              --port PORT           the target's port (required)
              --tls MODE            implicit | starttls | none (default implicit)
              --tls-version V       TLSv1.3 | TLSv1.2 (default TLSv1.3); every connection does a full handshake
              --concurrency N, -c   virtual users (imap-idle: sessions opened at once) (default 32)
              --duration S, -d      seconds of load (imap-idle: of holding) (default 10)
              --max-ops N           stop after N operations (default: no limit)
              --sessions N          imap-idle: sessions to hold (default 1000)
              --users U:P,U:P       accounts, used round robin (default alice and bob of the dev backends)
              --mailbox NAME        mailbox to SELECT (default INBOX)
              --message N           imap-fetch-big: the message to FETCH (default 1)
              --expect-bytes N      imap-fetch-big: the size every FETCH must return (default: any)
              --rcpt ADDR           smtp-submit: recipient (default bob@example.test)
              --message-size N      smtp-submit: message size in bytes (default 10240)
              --subject TEXT        smtp-submit: the message's subject (default postern-load)
              --threads N           event loop threads of the generator (default 1)
              --timeout S           longest wait for one reply (default 30)
              --label TEXT          copied into the JSON result
            """;

    private LoadMain() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one scenario; returns the exit code: 0 when it ran (errors are in the JSON), 1 on a usage error. */
    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
            out.print(USAGE);
            return args.length == 0 ? 1 : 0;
        }
        LoadOptions options;
        try {
            options = LoadOptions.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("postern-load: " + e.getMessage());
            err.print(USAGE);
            return 1;
        }
        try (LoadRun run = new LoadRun(options, err)) {
            RunResult result = run.run();
            out.println(result.toJson());
            out.flush();
        }
        return 0;
    }
}
