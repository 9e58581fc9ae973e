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
    private boolean incomplete;

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

    /** Whether a cluster-wide command did not reach every node (the process then exits with 3). */
    boolean incomplete() {
        return incomplete;
    }

    /** Prints the lines a cluster-wide answer adds (and notes one that did not reach every node). */
    private void shortfall(AdminClient.Reply reply) throws AdminClient.Failure {
        JsonNode r = reply.json();
        if (ClusterOutput.clusterWide(r) && !r.path("cluster").asText().equals("complete")) {
            incomplete = true;
        }
        if (!json) {
            ClusterOutput.printShortfall(out, r);
        }
    }

    /** {@code "?scope=cluster"} (or {@code "&..."} after {@code sep}) when --scope was given; empty otherwise. */
    private String scope(char sep) {
        return options.containsKey("--scope") ? sep + "scope=" + AdminClient.query(options.get("--scope")) : "";
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
                            : l.get("healthy").asBoolean()
                                    ? "yes"
                                    // a backend that is out says why, as the health check saw it last
                                    : l.path("last-failure").isTextual()
                                            ? "NO (" + l.get("last-failure").asText() + ")"
                                            : "NO",
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
        for (String o : List.of("--user", "--pool", "--backend", "--protocol", "--listener", "--limit", "--scope")) {
            if (options.containsKey(o)) {
                q.append(q.length() == 0 ? '?' : '&')
                        .append(o.substring(2))
                        .append('=')
                        .append(AdminClient.query(options.get(o)));
            }
        }
        AdminClient.Reply reply = client.get("/api/v1/sessions" + q);
        if (printedJson(reply)) {
            shortfall(reply);
            return;
        }
        JsonNode r = reply.json();
        boolean nodes = false;
        for (JsonNode s : r.get("sessions")) {
            nodes |= s.hasNonNull("node");
        }
        List<String> header = new ArrayList<>(
                List.of("ID", "LISTENER", "PROTO", "CLIENT", "USER", "BACKEND", "TLS", "AGE", "IN", "OUT"));
        if (nodes) {
            header.add(1, "NODE");
        }
        Table t = new Table(header.toArray(String[]::new));
        for (JsonNode s : r.get("sessions")) {
            String backend = s.get("backend").isNull()
                    ? null
                    : s.get("pool").asText() + "/" + s.get("backend").asText();
            List<Object> row = new ArrayList<>(List.of(
                    s.get("id").asText(),
                    s.get("listener").asText(),
                    s.get("protocol").asText(),
                    s.get("client").asText()));
            row.add(s.get("user").isNull() ? null : s.get("user").asText());
            row.add(backend);
            row.add(s.get("tls").isNull() ? null : s.get("tls").asText());
            row.addAll(List.of(
                    Table.age(s.get("age-seconds").asLong()),
                    s.get("bytes-in").asText(),
                    s.get("bytes-out").asText()));
            if (nodes) {
                row.add(1, s.path("node").isNull() ? null : s.path("node").asText());
            }
            t.row(row.toArray());
        }
        t.print(out);
        out.println(r.get("count").asInt() + " session(s)"
                + (r.get("truncated").asBoolean()
                        ? ", the first " + r.get("sessions").size() + " shown"
                        : "")
                + ClusterOutput.perNode(r, "count"));
        shortfall(reply);
    }

    void kill(String id) throws AdminClient.Failure {
        AdminClient.Reply reply =
                client.send("DELETE", "/api/v1/sessions/" + AdminClient.segment(id) + scope('?'), null);
        if (!printedJson(reply)) {
            JsonNode r = reply.json();
            out.println("closed session " + id
                    + (r.hasNonNull("on") ? " (on " + r.get("on").asText() + ")" : ""));
        }
    }

    void killUser(String user) throws AdminClient.Failure {
        AdminClient.Reply reply =
                client.send("DELETE", "/api/v1/sessions?user=" + AdminClient.query(user) + scope('&'), null);
        if (!printedJson(reply)) {
            JsonNode r = reply.json();
            out.println("closed " + r.get("killed").asInt() + " session(s) of " + user
                    + ClusterOutput.perNode(r, "killed"));
        }
        shortfall(reply);
    }

    void flushAuth(List<String> user) throws AdminClient.Failure {
        String path = user.isEmpty() ? "/api/v1/auth-cache" : "/api/v1/auth-cache/" + AdminClient.segment(user.get(0));
        AdminClient.Reply reply = client.send("DELETE", path + scope('?'), null);
        if (!printedJson(reply)) {
            out.println((user.isEmpty() ? "forgot every cached login" : "forgot the cached logins of " + user.get(0))
                    + ClusterOutput.perNode(reply.json(), n -> n.path("entries").asText() + " cached"));
        }
        shortfall(reply);
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
        AdminClient.Reply reply = client.send("POST", "/api/v1/tls/reload" + scope('?'), null);
        JsonNode r = reply.json();
        if (json || !ClusterOutput.clusterWide(r)) {
            if (!json) {
                out.println("reloaded; new handshakes get:");
            }
            certificates(reply);
            shortfall(reply);
            return;
        }
        out.println("reloaded" + ClusterOutput.perNode(r, n -> null) + "; new handshakes get:");
        Table t = new Table("NODE", "NAME", "SUBJECT", "EXPIRES", "DAYS", "DEFAULT");
        for (JsonNode n : r.path("nodes")) {
            for (JsonNode c : n.path("certificates")) {
                t.row(
                        n.path("node").asText(),
                        c.get("name").asText(),
                        c.get("subject").asText(),
                        c.get("not-after").asText(),
                        c.get("expires-in-days").asText(),
                        c.get("default").asBoolean() ? "yes" : "");
            }
        }
        t.print(out);
        shortfall(reply);
    }

    void reloadConfig(List<String> none) throws AdminClient.Failure {
        AdminClient.Reply reply = client.send("POST", "/api/v1/config/reload" + scope('?'), null);
        if (printedJson(reply)) {
            return;
        }
        JsonNode r = reply.json();
        if (!ClusterOutput.clusterWide(r)) {
            String node =
                    r.path("node").isTextual() ? " on node " + r.path("node").asText() : "";
            ReloadOutput.print(out, r, node);
            return;
        }
        for (JsonNode n : r.path("nodes")) {
            ReloadOutput.print(out, n, " on node " + n.path("node").asText());
        }
        shortfall(reply);
    }

    void nodes(List<String> none) throws AdminClient.Failure {
        AdminClient.Reply reply = client.get("/api/v1/cluster/nodes");
        if (printedJson(reply)) {
            return;
        }
        JsonNode r = reply.json();
        if (r.path("cluster").asText().equals("off")) {
            out.println("this node is not in a cluster (it has no cluster section)");
            return;
        }
        Table t = new Table("NODE", "SELF", "STARTED", "HEARTBEAT", "SESSIONS");
        for (JsonNode n : r.path("nodes")) {
            t.row(
                    n.path("node").asText(),
                    n.path("self").asBoolean() ? "yes" : "",
                    n.path("started").asText(),
                    n.path("heartbeat-age-ms").asLong() + " ms ago",
                    n.path("sessions").asText());
        }
        t.print(out);
    }

    void revision(List<String> none) throws AdminClient.Failure {
        AdminClient.Reply reply = client.get("/api/v1/revision");
        if (!printedJson(reply)) {
            out.println(reply.json().get("revision").asText());
        }
    }
}
