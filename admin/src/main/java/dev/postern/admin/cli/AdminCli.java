package dev.postern.admin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * done, 1 the API refused or could not be reached, 2 a usage error.
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
              explain USER [--protocol P]        where USER's next login would go, and why
              sessions [--user U] [--pool P] [--backend B] [--protocol P] [--limit N]
                                                 live sessions
              kill SESSION-ID                    close one session
              kill-user USER                     close every session of USER
              flush-auth [USER]                  forget USER's cached logins (everyone's without USER)
              certs                              the served certificates
              reload-tls                         reload the certificates from their files
              revision                           the routing table's revision
            options:
              --url URL          the admin API (default http://127.0.0.1:9025, or POSTERN_ADMIN_URL)
              --token TOKEN      a bearer token (default: POSTERN_ADMIN_TOKEN)
              --token-file FILE  read the token from FILE
              --cacert PEM       trust this certificate for an https URL (a self-signed admin certificate)
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
            "--limit");

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

    /** A command line that does not fit a command. */
    private static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message, null, false, false);
        }
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
        switch (command) {
            case "pools" -> pools(args(rest, 0, 0));
            case "pool" -> pool(args(rest, 1, 1).get(0));
            case "drain" -> state(args(rest, 2, 2), "drain");
            case "disable" -> state(args(rest, 2, 2), "disable");
            case "enable" -> state(args(rest, 2, 2), "enable");
            case "routes" -> routes(args(rest, 0, 0));
            case "route-domain" -> route("domains", args(rest, 2, 2));
            case "route-user" -> route("users", args(rest, 2, 2));
            case "unroute-domain" -> unroute("domains", args(rest, 1, 1).get(0));
            case "unroute-user" -> unroute("users", args(rest, 1, 1).get(0));
            case "explain" -> explain(args(rest, 1, 1).get(0));
            case "sessions" -> sessions(args(rest, 0, 0));
            case "kill" -> kill(args(rest, 1, 1).get(0));
            case "kill-user" -> killUser(args(rest, 1, 1).get(0));
            case "flush-auth" -> flushAuth(args(rest, 0, 1));
            case "certs" -> certificates(client.get("/api/v1/tls/certificates"));
            case "reload-tls" -> reloadTls(args(rest, 0, 0));
            case "revision" -> revision(args(rest, 0, 0));
            default -> throw new UsageException("unknown command '" + command + "'");
        }
        return 0;
    }

    private List<String> args(List<String> rest, int min, int max) throws UsageException {
        if (rest.size() < min || rest.size() > max) {
            String expected = min == max ? String.valueOf(min) : min + " to " + max;
            throw new UsageException(words.get(0) + " takes " + expected + " argument(s), not " + rest.size());
        }
        return rest;
    }

    private boolean printedJson(AdminClient.Reply reply) {
        if (json) {
            out.println(reply.body().strip());
        }
        return json;
    }

    private void pools(List<String> none) throws AdminClient.Failure {
        AdminClient.Reply reply = client.get("/api/v1/pools");
        if (printedJson(reply)) {
            return;
        }
        Table t = poolTable();
        for (JsonNode pool : reply.json().get("pools")) {
            addPool(t, pool);
        }
        t.print(out);
    }

    private void pool(String name) throws AdminClient.Failure {
        AdminClient.Reply reply = client.get("/api/v1/pools/" + AdminClient.segment(name));
        if (printedJson(reply)) {
            return;
        }
        Table t = poolTable();
        addPool(t, reply.json());
        t.print(out);
    }

    private static Table poolTable() {
        return new Table("POOL", "BALANCER", "BACKEND", "ADDRESS", "WEIGHT", "STATE", "HEALTHY", "SESSIONS");
    }

    private void addPool(Table t, JsonNode pool) throws AdminClient.Failure {
        String name = pool.get("name").asText();
        JsonNode status = client.get("/api/v1/pools/" + AdminClient.segment(name) + "/status")
                .json();
        Map<String, JsonNode> live = new HashMap<>();
        for (JsonNode b : status.path("backends")) {
            live.put(b.path("id").asText(), b);
        }
        for (JsonNode b : pool.get("backends")) {
            String id = b.get("id").asText();
            JsonNode l = live.get(id);
            String host = b.get("host").asText();
            String address = (host.indexOf(':') >= 0 ? "[" + host + "]" : host)
                    + (b.has("port") ? ":" + b.get("port").asText() : "")
                    + (b.has("ports") ? " " + b.get("ports").toString() : "");
            t.row(
                    name,
                    pool.get("balancer").asText(),
                    id,
                    address,
                    b.get("weight").asText(),
                    b.get("state").asText(),
                    l == null || l.get("healthy").isNull()
                            ? "?"
                            : (l.get("healthy").asBoolean() ? "yes" : "NO"),
                    l == null || l.get("sessions").isNull()
                            ? "?"
                            : l.get("sessions").asText());
        }
    }

    private void state(List<String> poolAndBackend, String action) throws AdminClient.Failure, UsageException {
        String path = "/api/v1/pools/" + AdminClient.segment(poolAndBackend.get(0)) + "/backends/"
                + AdminClient.segment(poolAndBackend.get(1)) + "/" + action;
        ObjectNode body = null;
        if (options.containsKey("--deadline")) {
            if (!action.equals("drain")) {
                throw new UsageException("--deadline is for drain");
            }
            body = AdminClient.MAPPER.createObjectNode().put("deadline", options.get("--deadline"));
        }
        AdminClient.Reply reply = client.send("POST", path, body);
        if (printedJson(reply)) {
            return;
        }
        JsonNode r = reply.json();
        out.println(r.get("pool").asText() + "/" + r.get("backend").asText() + ": "
                + r.get("state").asText()
                + (r.has("deadline")
                        ? " (sessions still open at " + r.get("deadline").asText() + " will be closed)"
                        : "")
                + " [revision " + r.get("revision").asText() + "]");
    }

    private void routes(List<String> none) throws AdminClient.Failure {
        AdminClient.Reply reply = client.get("/api/v1/routes");
        if (printedJson(reply)) {
            return;
        }
        JsonNode r = reply.json();
        Table t = new Table("KIND", "MATCH", "POOL");
        r.path("users")
                .fields()
                .forEachRemaining(e -> t.row("user", e.getKey(), e.getValue().asText()));
        r.path("domains")
                .fields()
                .forEachRemaining(e -> t.row("domain", e.getKey(), e.getValue().asText()));
        if (r.hasNonNull("default")) {
            t.row("default", "*", r.get("default").asText());
        }
        t.print(out);
    }

    private void route(String kind, List<String> keyAndPool) throws AdminClient.Failure {
        ObjectNode body = AdminClient.MAPPER.createObjectNode().put("pool", keyAndPool.get(1));
        AdminClient.Reply reply =
                client.send("PUT", "/api/v1/routes/" + kind + "/" + AdminClient.segment(keyAndPool.get(0)), body);
        if (printedJson(reply)) {
            return;
        }
        JsonNode r = reply.json();
        String key = r.has("user")
                ? "user " + r.get("user").asText()
                : "domain " + r.path("domain").asText();
        out.println(key + " -> " + r.get("pool").asText() + (reply.status() == 201 ? " (new route)" : ""));
    }

    private void unroute(String kind, String key) throws AdminClient.Failure {
        AdminClient.Reply reply =
                client.send("DELETE", "/api/v1/routes/" + kind + "/" + AdminClient.segment(key), null);
        if (printedJson(reply)) {
            return;
        }
        out.println("deleted " + reply.json().get("deleted").asText() + " [revision "
                + reply.json().get("revision").asText() + "]");
    }

    private void explain(String user) throws AdminClient.Failure {
        String q = "?user=" + AdminClient.query(user)
                + (options.containsKey("--protocol")
                        ? "&protocol=" + AdminClient.query(options.get("--protocol"))
                        : "");
        AdminClient.Reply reply = client.get("/api/v1/routes/explain" + q);
        if (printedJson(reply)) {
            return;
        }
        JsonNode e = reply.json();
        if (e.path("pool").isNull() || e.path("pool").isMissingNode()) {
            out.println(user + ": no route (no user, domain, listener or default rule matches)");
            return;
        }
        String rule = e.path("rule").asText();
        String key = e.path("key").isNull() ? "" : " " + e.path("key").asText();
        out.println(user + ": pool " + e.get("pool").asText() + " (by " + rule + key + ")");
        Table t = new Table("ORDER", "BACKEND", "ELIGIBLE", "WHY");
        int i = 1;
        for (JsonNode b : e.path("backends")) {
            t.row(
                    i++,
                    b.get("id").asText(),
                    b.get("eligible").asBoolean() ? "yes" : "no",
                    b.get("reason").asText());
        }
        t.print(out);
    }

    private void sessions(List<String> none) throws AdminClient.Failure {
        StringBuilder q = new StringBuilder();
        for (String o : List.of("--user", "--pool", "--backend", "--protocol", "--listener", "--limit")) {
            if (options.containsKey(o)) {
                q.append(q.length() == 0 ? '?' : '&')
                        .append(o.substring(2))
                        .append('=')
                        .append(AdminClient.query(options.get(o)));
            }
        }
        AdminClient.Reply reply = client.get("/api/v1/sessions" + q);
        if (printedJson(reply)) {
            return;
        }
        JsonNode r = reply.json();
        Table t = new Table("ID", "LISTENER", "PROTO", "CLIENT", "USER", "BACKEND", "TLS", "AGE", "IN", "OUT");
        for (JsonNode s : r.get("sessions")) {
            String backend = s.get("backend").isNull()
                    ? null
                    : s.get("pool").asText() + "/" + s.get("backend").asText();
            t.row(
                    s.get("id").asText(),
                    s.get("listener").asText(),
                    s.get("protocol").asText(),
                    s.get("client").asText(),
                    s.get("user").isNull() ? null : s.get("user").asText(),
                    backend,
                    s.get("tls").isNull() ? null : s.get("tls").asText(),
                    age(s.get("age-seconds").asLong()),
                    s.get("bytes-in").asText(),
                    s.get("bytes-out").asText());
        }
        t.print(out);
        out.println(r.get("count").asInt() + " session(s)"
                + (r.get("truncated").asBoolean()
                        ? ", the first " + r.get("sessions").size() + " shown"
                        : ""));
    }

    static String age(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return seconds / 60 + "m" + seconds % 60 + "s";
        }
        return seconds / 3600 + "h" + seconds % 3600 / 60 + "m";
    }

    private void kill(String id) throws AdminClient.Failure {
        AdminClient.Reply reply = client.send("DELETE", "/api/v1/sessions/" + AdminClient.segment(id), null);
        if (!printedJson(reply)) {
            out.println("closed session " + id);
        }
    }

    private void killUser(String user) throws AdminClient.Failure {
        AdminClient.Reply reply = client.send("DELETE", "/api/v1/sessions?user=" + AdminClient.query(user), null);
        if (!printedJson(reply)) {
            out.println("closed " + reply.json().get("killed").asInt() + " session(s) of " + user);
        }
    }

    private void flushAuth(List<String> user) throws AdminClient.Failure {
        String path = user.isEmpty() ? "/api/v1/auth-cache" : "/api/v1/auth-cache/" + AdminClient.segment(user.get(0));
        AdminClient.Reply reply = client.send("DELETE", path, null);
        if (!printedJson(reply)) {
            out.println(user.isEmpty() ? "forgot every cached login" : "forgot the cached logins of " + user.get(0));
        }
    }

    private void certificates(AdminClient.Reply reply) throws AdminClient.Failure {
        if (printedJson(reply)) {
            return;
        }
        Table t = new Table("NAME", "SUBJECT", "NAMES", "EXPIRES", "DAYS", "DEFAULT");
        for (JsonNode c : reply.json().get("certificates")) {
            List<String> names = new ArrayList<>();
            c.path("dns-names").forEach(n -> names.add(n.asText()));
            t.row(
                    c.get("name").asText(),
                    c.get("subject").asText(),
                    names.isEmpty() ? null : String.join(",", names),
                    c.get("not-after").asText(),
                    c.get("expires-in-days").asText(),
                    c.get("default").asBoolean() ? "yes" : "");
        }
        t.print(out);
    }

    private void reloadTls(List<String> none) throws AdminClient.Failure {
        AdminClient.Reply reply = client.send("POST", "/api/v1/tls/reload", null);
        if (!json) {
            out.println("reloaded; new handshakes get:");
        }
        certificates(reply);
    }

    private void revision(List<String> none) throws AdminClient.Failure {
        AdminClient.Reply reply = client.get("/api/v1/revision");
        if (!printedJson(reply)) {
            out.println(reply.json().get("revision").asText());
        }
    }
}
