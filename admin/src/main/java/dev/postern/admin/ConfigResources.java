package dev.postern.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /config/reload}: the configuration file re-read and put in force, or refused with every problem in
 * it. This node's own file unless {@code scope=cluster} asks every node to reload its own.
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
        // each node reads its own file: this node only unless the cluster is asked for
        Optional<ClusterControl> asked = cluster.scope(request, false);
        if (asked.isEmpty()) {
            ConfigReloadResult result = proxy.reloadConfig();
            if (result instanceof ConfigReloadResult.Rejected rejected) {
                log.warn(
                        "configuration reload through the admin API refused: {} problem(s) in {}",
                        rejected.problems().size(),
                        rejected.file());
                throw new ApiException(rejected(rejected.problems().size() + " problem(s) in " + rejected.file())
                        .with("problems", ConfigReloadJson.problems(rejected.problems())));
            }
            ObjectNode root = Json.MAPPER.createObjectNode();
            ConfigReloadJson.write(root, result);
            cluster.putOrigin(root, asked);
            return ApiResponse.ok(root);
        }
        ClusterReport<ConfigReloadResult> report = asked.get().reloadConfig();
        List<String> failures = new ArrayList<>();
        report.answers().forEach((node, result) -> {
            if (result instanceof ConfigReloadResult.Rejected rejected) {
                failures.add("node " + node + ": " + rejected.problems().size() + " problem(s) in " + rejected.file());
            }
        });
        if (!failures.isEmpty()) {
            log.warn("configuration reload through the admin API refused: {}", String.join("; ", failures));
            throw new ApiException(ClusterResources.withReport(
                    rejected(String.join("; ", failures)), report, ConfigReloadJson::write));
        }
        ObjectNode root = Json.MAPPER.createObjectNode();
        ConfigReloadJson.write(root, report.answers().get(asked.get().nodeId()));
        cluster.putOrigin(root, asked);
        ClusterResources.putReport(root, report, ConfigReloadJson::write);
        return ApiResponse.ok(root);
    }

    private static Problem rejected(String detail) {
        return Problem.typed(
                HttpResponseStatus.UNPROCESSABLE_ENTITY,
                "config-invalid",
                "The configuration file has problems; the running configuration is kept",
                detail);
    }
}
