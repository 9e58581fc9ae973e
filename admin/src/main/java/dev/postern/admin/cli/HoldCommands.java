package dev.postern.admin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.Iterator;
import java.util.Map;

/** The mailbox-move commands of {@link AdminCli}: move-user, hold, release, holds. */
final class HoldCommands {
    private final PrintStream out;
    private final Map<String, String> options;
    private final boolean json;
    private final AdminClient client;
    private boolean incomplete;

    HoldCommands(PrintStream out, Map<String, String> options, boolean json, AdminClient client) {
        this.out = out;
        this.options = options;
        this.json = json;
        this.client = client;
    }

    /** Whether a hold, release or move did not reach every node of the cluster (exit code 3). */
    boolean incomplete() {
        return incomplete;
    }

    void moveUser(String user) throws AdminClient.Failure, UsageException {
        String to = options.get("--to");
        if (to == null) {
            throw new UsageException("move-user needs --to POOL or --to POOL/BACKEND");
        }
        ObjectNode body = AdminClient.MAPPER.createObjectNode().put("to", to);
        AdminClient.Reply reply =
                client.send("POST", "/api/v1/routes/users/" + AdminClient.segment(user) + "/move", body);
        JsonNode r = reply.json();
        for (Iterator<Map.Entry<String, JsonNode>> steps = r.path("cluster").fields(); steps.hasNext(); ) {
            Map.Entry<String, JsonNode> step = steps.next();
            if (!step.getValue().asText().equals("complete")) {
                incomplete = true;
                if (!json) {
                    out.println(
                            "cluster: " + step.getKey() + " " + step.getValue().asText());
                }
            }
        }
        if (json) {
            out.println(reply.body().strip());
            return;
        }
        String from =
                r.at("/from/pool").isNull() ? "(no route)" : r.at("/from/pool").asText();
        String target = r.at("/to/pool").asText()
                + (r.at("/to/backend").isTextual() ? "/" + r.at("/to/backend").asText() : "");
        out.println("moved " + r.get("user").asText() + " from " + from + " to " + target + " in "
                + r.get("took-ms").asText() + " ms: " + r.get("sessions-ended").asInt() + " session(s) ended, "
                + r.get("held-logins").asInt() + " held login(s) released [revision "
                + r.get("revision").asText()
                + "]");
    }

    void hold(String user) throws AdminClient.Failure {
        ObjectNode body = AdminClient.MAPPER.createObjectNode().put("user", user);
        if (options.containsKey("--timeout")) {
            body.put("timeout", options.get("--timeout"));
        }
        AdminClient.Reply reply = client.send("POST", "/api/v1/holds", body);
        if (!printed(reply)) {
            JsonNode r = reply.json();
            out.println("holding new logins of " + r.get("user").asText() + " until "
                    + r.get("until").asText() + " (or a release)" + ClusterOutput.perNode(r, "held"));
        }
        shortfall(reply);
    }

    void release(String user) throws AdminClient.Failure {
        AdminClient.Reply reply = client.send("DELETE", "/api/v1/holds/" + AdminClient.segment(user), null);
        if (!printed(reply)) {
            JsonNode r = reply.json();
            out.println("released " + r.get("released").asText() + ClusterOutput.perNode(r, "held"));
        }
        shortfall(reply);
    }

    void holds() throws AdminClient.Failure {
        AdminClient.Reply reply = client.get("/api/v1/holds");
        if (printed(reply)) {
            return;
        }
        Table t = new Table("USER", "UNTIL", "REMAINING", "WAITING", "ORIGIN");
        for (JsonNode h : reply.json().path("holds")) {
            t.row(
                    h.get("user").asText(),
                    h.get("until").asText(),
                    h.get("remaining-ms").asLong() / 1000 + "s",
                    h.get("waiting").asText(),
                    h.get("origin").asText());
        }
        t.print(out);
        out.println("a held login waits at most "
                + reply.json().path("hold-timeout").asText());
    }

    private boolean printed(AdminClient.Reply reply) {
        if (json) {
            out.println(reply.body().strip());
        }
        return json;
    }

    private void shortfall(AdminClient.Reply reply) throws AdminClient.Failure {
        JsonNode r = reply.json();
        if (json) {
            incomplete |=
                    ClusterOutput.clusterWide(r) && !r.path("cluster").asText().equals("complete");
        } else {
            incomplete |= ClusterOutput.printShortfall(out, r);
        }
    }
}
