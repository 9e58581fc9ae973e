package dev.postern.admin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** How {@code postern admin reload} prints a configuration reload's answer. */
final class ReloadOutput {
    private ReloadOutput() {}

    /** What one node's reload answer says: the file, what changed for new sessions, what needs a restart. */
    static void print(PrintStream out, JsonNode r, String node) {
        if (!r.path("changed").asBoolean()) {
            out.println("reloaded " + r.path("file").asText() + node + ": nothing changed for new sessions");
        } else {
            out.println("reloaded " + r.path("file").asText() + node + "; new sessions get the new settings:");
        }
        JsonNode l = r.path("listeners");
        l.path("added").forEach(n -> out.println("  listener added:   " + n.asText()));
        l.path("removed").forEach(n -> out.println("  listener removed: " + n.asText() + " (live sessions go on)"));
        for (JsonNode c : l.path("changed")) {
            List<String> what = new ArrayList<>();
            c.path("what").forEach(w -> what.add(w.asText()));
            out.println("  listener changed: " + c.path("name").asText() + " (" + String.join(", ", what) + ")");
        }
        List<String> settings = new ArrayList<>();
        r.path("settings-changed").forEach(n -> settings.add(n.asText()));
        if (!settings.isEmpty()) {
            out.println("  changed: " + String.join(", ", settings));
        }
        List<String> restart = new ArrayList<>();
        r.path("needs-restart").forEach(n -> restart.add(n.asText()));
        if (!restart.isEmpty()) {
            out.println("  needs a restart (left as it was): " + String.join(", ", restart));
        }
        if (r.path("routing-seeds-ignored").asBoolean()) {
            out.println("  pools and routes of the file ignored: the live route store is kept");
        }
    }
}
