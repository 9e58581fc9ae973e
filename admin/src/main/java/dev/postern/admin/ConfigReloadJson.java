package dev.postern.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.config.ConfigProblem;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link ConfigReloadResult} as JSON: the members of the API's answer ({@code reloaded}, {@code changed}, {@code
 * listeners}, {@code settings-changed}, {@code needs-restart}, {@code routing-seeds-ignored}; or {@code problems}),
 * and back, for a node that tells another how its reload went.
 */
public final class ConfigReloadJson {
    private ConfigReloadJson() {}

    /** Writes {@code result}'s members into {@code n}; returns {@code n}. */
    public static ObjectNode write(ObjectNode n, ConfigReloadResult result) {
        if (result instanceof ConfigReloadResult.Rejected rejected) {
            n.put("reloaded", false);
            n.put("file", rejected.file());
            n.set("problems", problems(rejected.problems()));
            return n;
        }
        ConfigReloadResult.Applied applied = (ConfigReloadResult.Applied) result;
        n.put("reloaded", true);
        n.put("file", applied.file());
        n.put("changed", applied.anyChange());
        ObjectNode listeners = n.putObject("listeners");
        strings(listeners.putArray("added"), applied.listenersAdded());
        strings(listeners.putArray("removed"), applied.listenersRemoved());
        ArrayNode changed = listeners.putArray("changed");
        for (ConfigReloadResult.ListenerChange c : applied.listenersChanged()) {
            ObjectNode l = changed.addObject();
            l.put("name", c.name());
            strings(l.putArray("what"), c.what());
        }
        strings(n.putArray("settings-changed"), applied.changed());
        strings(n.putArray("needs-restart"), applied.needsRestart());
        n.put("routing-seeds-ignored", applied.routingSeedsIgnored());
        return n;
    }

    /** Reads what {@link #write} wrote. */
    public static ConfigReloadResult read(JsonNode n) {
        String file = n.path("file").asText("-");
        if (!n.path("reloaded").asBoolean()) {
            List<ConfigProblem> problems = new ArrayList<>();
            for (JsonNode p : n.path("problems")) {
                problems.add(new ConfigProblem(
                        p.path("path").asText(), p.path("message").asText()));
            }
            if (problems.isEmpty()) {
                problems.add(new ConfigProblem("", "the node gave no reason"));
            }
            return new ConfigReloadResult.Rejected(file, problems);
        }
        JsonNode l = n.path("listeners");
        List<ConfigReloadResult.ListenerChange> changed = new ArrayList<>();
        for (JsonNode c : l.path("changed")) {
            changed.add(new ConfigReloadResult.ListenerChange(c.path("name").asText(), strings(c.path("what"))));
        }
        return new ConfigReloadResult.Applied(
                file,
                strings(l.path("added")),
                strings(l.path("removed")),
                changed,
                strings(n.path("settings-changed")),
                strings(n.path("needs-restart")),
                n.path("routing-seeds-ignored").asBoolean());
    }

    static ArrayNode problems(List<ConfigProblem> problems) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (ConfigProblem p : problems) {
            ObjectNode o = list.addObject();
            o.put("path", p.path());
            o.put("message", p.message());
        }
        return list;
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(array::add);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(x -> out.add(x.asText()));
        return out;
    }
}
