package dev.postern.admin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The commands of {@link AdminCli}: one API call (or a few) each, printed as a table or as the API's JSON. */
final class Commands {
    private final PrintStream out;
    private final Map<String, String> options;
    private final boolean json;
    private final AdminClient client;

    Commands(PrintStream out, Map<String, String> options, boolean json, AdminClient client) {
        this.out = out;
        this.options = options;
        this.json = json;
        this.client = client;
    }

    private boolean printedJson(AdminClient.Reply reply) {
        if (json) {
            out.println(reply.body().strip());
        }
        return json;
    }

    void pools(List<String> none) throws AdminClient.Failure {
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

    void pool(String name) throws AdminClient.Failure {
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

    void state(List<String> poolAndBackend, String action) throws AdminClient.Failure, UsageException {
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

    void routes(List<String> none) throws AdminClient.Failure {
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

    void route(String kind, List<String> keyAndPool) throws AdminClient.Failure {
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

    void unroute(String kind, String key) throws AdminClient.Failure {
        AdminClient.Reply reply =
                client.send("DELETE", "/api/v1/routes/" + kind + "/" + AdminClient.segment(key), null);
        if (printedJson(reply)) {
            return;
        }
        out.println("deleted " + reply.json().get("deleted").asText() + " [revision "
                + reply.json().get("revision").asText() + "]");
    }

    void explain(String user) throws AdminClient.Failure {
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

    void sessions(List<String> none) throws AdminClient.Failure {
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

    void kill(String id) throws AdminClient.Failure {
        AdminClient.Reply reply = client.send("DELETE", "/api/v1/sessions/" + AdminClient.segment(id), null);
        if (!printedJson(reply)) {
            out.println("closed session " + id);
        }
    }

    void killUser(String user) throws AdminClient.Failure {
        AdminClient.Reply reply = client.send("DELETE", "/api/v1/sessions?user=" + AdminClient.query(user), null);
        if (!printedJson(reply)) {
            out.println("closed " + reply.json().get("killed").asInt() + " session(s) of " + user);
        }
    }

    void flushAuth(List<String> user) throws AdminClient.Failure {
        String path = user.isEmpty() ? "/api/v1/auth-cache" : "/api/v1/auth-cache/" + AdminClient.segment(user.get(0));
        AdminClient.Reply reply = client.send("DELETE", path, null);
        if (!printedJson(reply)) {
            out.println(user.isEmpty() ? "forgot every cached login" : "forgot the cached logins of " + user.get(0));
        }
    }

    void certificates(AdminClient.Reply reply) throws AdminClient.Failure {
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

    void reloadTls(List<String> none) throws AdminClient.Failure {
        AdminClient.Reply reply = client.send("POST", "/api/v1/tls/reload", null);
        if (!json) {
            out.println("reloaded; new handshakes get:");
        }
        certificates(reply);
    }

    void revision(List<String> none) throws AdminClient.Failure {
        AdminClient.Reply reply = client.get("/api/v1/revision");
        if (!printedJson(reply)) {
            out.println(reply.json().get("revision").asText());
        }
    }
}
