package dev.postern.admin.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * {@code postern admin <command>}: the daily admin API calls from a shell, without curl. Human-readable tables by
 * default, the API's JSON with {@code --json}. The token comes from {@code --token}, {@code --token-file} or the
 * environment variable {@code POSTERN_ADMIN_TOKEN} (the environment keeps it out of the process list). Exit codes: 0
 * done, 1 the API refused or could not be reached, 2 a usage error, 3 a cluster-wide command done on the node asked
 * but not confirmed by every node (some did not answer, or Redis could not be reached).
 */
public final class AdminCli {
    static final String DEFAULT_URL = "http://127.0.0.1:9025";
    static final String USAGE =
            """
            usage: postern admin [--url URL] [--token TOKEN | --token-file FILE] [--cacert PEM] [--json] COMMAND
              pools                              pools, backends, state, health and sessions
              pool NAME                          one pool
              drain POOL BACKEND [--deadline D]  no new sessions; with D (10m, 1h, or a time) close the rest then
              disable POOL BACKEND               no new sessions; live ones keep running
              enable POOL BACKEND                back to active
              routes                             user and domain routes, and the default pool
              route-domain DOMAIN POOL           send a domain (or *.domain) to a pool
              route-user USER POOL               send one user to a pool
              unroute-domain DOMAIN              delete a domain route
              unroute-user USER                  delete a user route
              move-user USER --to POOL[/BACKEND] move a mailbox: hold USER's logins, end USER's sessions, route
                                                 USER to POOL (pinned to BACKEND), release the held logins there
              hold USER [--timeout D]            hold USER's new logins (default 5m) while a mailbox is copied
              release USER                       let USER's held logins go on
              holds                              the users held now, and their waiting logins
              explain USER [--protocol P]        where USER's next login would go, and why
              sessions [--user U] [--pool P] [--backend B] [--protocol P] [--limit N] [--scope cluster]
                                                 live sessions (this node's; every node's with --scope cluster)
              kill SESSION-ID                    close one session (on whichever node it is)
              kill-user USER                     close every session of USER
              flush-auth [USER]                  forget USER's cached logins (everyone's without USER)
              certs                              the served certificates
              reload-tls                         reload the certificates from their files
              reload                             re-read the configuration file (as SIGHUP); --scope cluster: every node
              nodes                              the cluster's nodes, by their heartbeat
              revision                           the routing table's revision
            in a cluster, kill, kill-user, flush-auth and reload-tls reach every node (--scope local: this node only),
            and hold, release and move-user always do;
            exit code 3: done here, but not every node answered
            options:
              --url URL          the admin API (default http://127.0.0.1:9025, or POSTERN_ADMIN_URL)
              --token TOKEN      a bearer token (default: POSTERN_ADMIN_TOKEN)
              --token-file FILE  read the token from FILE
              --cacert PEM       trust this certificate for an https URL (a self-signed admin certificate)
              --scope S          local or cluster: which nodes a command is for (see above)
              --json             print the API's JSON instead of a table""";

    private static final Set<String> VALUE_OPTIONS = Set.of(
            "--url",
            "--token",
            "--token-file",
            "--cacert",
            "--deadline",
            "--protocol",
            "--user",
            "--pool",
            "--backend",
            "--listener",
            "--limit",
            "--scope",
            "--to",
            "--timeout");

    private final PrintStream out;
    private final Map<String, String> options;
    private final List<String> words;
    private final boolean json;
    private AdminClient client;

    private AdminCli(PrintStream out, Map<String, String> options, List<String> words, boolean json) {
        this.out = out;
        this.options = options;
        this.words = words;
        this.json = json;
    }

    /** Runs {@code postern admin ARGS}, with the token and URL defaults from the process environment. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, System::getenv);
    }

    /** Runs {@code postern admin ARGS}; {@code env} looks up environment variables (null when unset). */
    public static int run(String[] args, PrintStream out, PrintStream err, Function<String, String> env) {
        Map<String, String> options = new HashMap<>();
        List<String> words = new ArrayList<>();
        boolean json = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h") || (words.isEmpty() && a.equals("help"))) {
                out.println(USAGE);
                return 0;
            }
            if (a.equals("--json")) {
                json = true;
            } else if (VALUE_OPTIONS.contains(a)) {
                if (i + 1 >= args.length) {
                    return usage(err, a + " needs a value");
                }
                options.put(a, args[++i]);
            } else if (a.startsWith("--")) {
                return usage(err, "unknown option '" + a + "'");
            } else {
                words.add(a);
            }
        }
        if (words.isEmpty()) {
            return usage(err, "no command given");
        }
        AdminCli cli = new AdminCli(out, options, words, json);
        try {
            cli.client = cli.client(env);
            return cli.dispatch();
        } catch (AdminClient.Failure e) {
            err.println("postern admin: " + e.getMessage());
            return 1;
        } catch (UsageException e) {
            return usage(err, e.getMessage());
        }
    }

    private static int usage(PrintStream err, String problem) {
        err.println("postern admin: " + problem + "\n" + USAGE);
        return 2;
    }

    private AdminClient client(Function<String, String> env) throws AdminClient.Failure, UsageException {
        String url = options.getOrDefault("--url", env.apply("POSTERN_ADMIN_URL"));
        URI base;
        try {
            base = URI.create(url == null || url.isBlank() ? DEFAULT_URL : url.strip());
        } catch (IllegalArgumentException e) {
            throw new UsageException("'" + url + "' is not a URL");
        }
        if (!"http".equals(base.getScheme()) && !"https".equals(base.getScheme())) {
            throw new UsageException("'" + url + "' is not an http or https URL");
        }
        String token = options.get("--token");
        if (token == null && options.containsKey("--token-file")) {
            Path file = Path.of(options.get("--token-file"));
            try {
                token = Files.readString(file, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new AdminClient.Failure(
                        file + ": cannot be read (" + e.getClass().getSimpleName() + ")");
            }
        }
        if (token == null) {
            token = env.apply("POSTERN_ADMIN_TOKEN");
        }
        Path ca = options.containsKey("--cacert") ? Path.of(options.get("--cacert")) : null;
        return new AdminClient(base, token, ca);
    }

    private int dispatch() throws AdminClient.Failure, UsageException {
        String command = words.get(0);
        List<String> rest = words.subList(1, words.size());
        Commands c = new Commands(out, options, json, client);
        HoldCommands h = new HoldCommands(out, options, json, client);
        switch (command) {
            case "pools" -> c.pools(args(rest, 0, 0));
            case "pool" -> c.pool(args(rest, 1, 1).get(0));
            case "drain" -> c.state(args(rest, 2, 2), "drain");
            case "disable" -> c.state(args(rest, 2, 2), "disable");
            case "enable" -> c.state(args(rest, 2, 2), "enable");
            case "routes" -> c.routes(args(rest, 0, 0));
            case "route-domain" -> c.route("domains", args(rest, 2, 2));
            case "route-user" -> c.route("users", args(rest, 2, 2));
            case "unroute-domain" -> c.unroute("domains", args(rest, 1, 1).get(0));
            case "unroute-user" -> c.unroute("users", args(rest, 1, 1).get(0));
            case "explain" -> c.explain(args(rest, 1, 1).get(0));
            case "move-user" -> h.moveUser(args(rest, 1, 1).get(0));
            case "hold" -> h.hold(args(rest, 1, 1).get(0));
            case "release" -> h.release(args(rest, 1, 1).get(0));
            case "holds" -> {
                args(rest, 0, 0);
                h.holds();
            }
            case "sessions" -> c.sessions(args(rest, 0, 0));
            case "kill" -> c.kill(args(rest, 1, 1).get(0));
            case "kill-user" -> c.killUser(args(rest, 1, 1).get(0));
            case "flush-auth" -> c.flushAuth(args(rest, 0, 1));
            case "certs" -> {
                args(rest, 0, 0);
                c.certificates(client.get("/api/v1/tls/certificates"));
            }
            case "reload-tls" -> c.reloadTls(args(rest, 0, 0));
            case "reload" -> c.reloadConfig(args(rest, 0, 0));
            case "nodes" -> c.nodes(args(rest, 0, 0));
            case "revision" -> c.revision(args(rest, 0, 0));
            default -> throw new UsageException("unknown command '" + command + "'");
        }
        return c.incomplete() || h.incomplete() ? 3 : 0;
    }

    private List<String> args(List<String> rest, int min, int max) throws UsageException {
        if (rest.size() < min || rest.size() > max) {
            String expected = min == max ? String.valueOf(min) : min + " to " + max;
            throw new UsageException(words.get(0) + " takes " + expected + " argument(s), not " + rest.size());
        }
        return rest;
    }
}
