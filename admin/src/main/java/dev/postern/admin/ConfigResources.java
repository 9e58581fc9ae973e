package dev.postern.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.config.ConfigProblem;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /config/reload}: the configuration file re-read and put in force, or refused with every problem in
 * it. Always this node's own file, also in a cluster (each node reads its own).
 */
final class ConfigResources {
    private static final Logger log = LoggerFactory.getLogger(ConfigResources.class);

    static final String RELOAD = AdminServer.API + "/config/reload";

    private final ProxyControl proxy;
    private final ClusterResources cluster;

    ConfigResources(ProxyControl proxy, ClusterResources cluster) {
        this.proxy = proxy;
        this.cluster = cluster;
    }

    void register(Router router) {
        router.add(HttpMethod.POST, RELOAD, this::reload);
    }

    private ApiResponse reload(ApiRequest request) throws ApiException {
        if (request.query("scope").filter(ClusterResources.CLUSTER::equals).isPresent()) {
            throw ApiException.invalidParameter(
                    "scope",
                    "a configuration reload is for this node only (each node reads its own file): scope=local");
        }
        ConfigReloadResult result = proxy.reloadConfig();
        if (result instanceof ConfigReloadResult.Rejected rejected) {
            log.warn(
                    "configuration reload through the admin API refused: {} problem(s) in {}",
                    rejected.problems().size(),
                    rejected.file());
            throw new ApiException(rejected(rejected));
        }
        ConfigReloadResult.Applied applied = (ConfigReloadResult.Applied) result;
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("reloaded", true);
        cluster.putOrigin(root, Optional.empty());
        root.put("file", applied.file());
        root.put("changed", applied.anyChange());
        ObjectNode listeners = root.putObject("listeners");
        strings(listeners.putArray("added"), applied.listenersAdded());
        strings(listeners.putArray("removed"), applied.listenersRemoved());
        ArrayNode changed = listeners.putArray("changed");
        for (ConfigReloadResult.ListenerChange c : applied.listenersChanged()) {
            ObjectNode n = changed.addObject();
            n.put("name", c.name());
            strings(n.putArray("what"), c.what());
        }
        strings(root.putArray("settings-changed"), applied.changed());
        strings(root.putArray("needs-restart"), applied.needsRestart());
        root.put("routing-seeds-ignored", applied.routingSeedsIgnored());
        return ApiResponse.ok(root);
    }

    static Problem rejected(ConfigReloadResult.Rejected rejected) {
        List<ConfigProblem> problems = rejected.problems();
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (ConfigProblem p : problems) {
            ObjectNode n = list.addObject();
            n.put("path", p.path());
            n.put("message", p.message());
        }
        return Problem.typed(
                        HttpResponseStatus.UNPROCESSABLE_ENTITY,
                        "config-invalid",
                        "The configuration file has problems; the running configuration is kept",
                        problems.size() + " problem(s) in " + rejected.file())
                .with("problems", list);
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(array::add);
    }
}
