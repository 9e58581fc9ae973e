package dev.postern.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.config.RoutingJson;
import dev.postern.config.RoutingTable;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.TreeMap;

/**
 * The endpoints around the API: {@code /healthz} (the process is up), {@code /readyz} (it should get traffic),
 * {@code /metrics} (Prometheus text or OpenMetrics, as the {@code Accept} header asks), and the API's own
 * {@code /revision}, {@code /routing} and {@code /openapi.json}.
 */
final class SystemResources {
    static final String HEALTHZ = "/healthz";
    static final String READYZ = "/readyz";
    static final String METRICS = "/metrics";
    static final String OPENAPI = AdminServer.API + "/openapi.json";

    private final RoutingChanges changes;
    private final ProxyControl proxy;
    private final PrometheusRegistry registry;
    private final ExpositionFormats formats = ExpositionFormats.init();
    private final byte[] openApi;

    SystemResources(RoutingChanges changes, ProxyControl proxy, PrometheusRegistry registry) {
        this.changes = changes;
        this.proxy = proxy;
        this.registry = registry;
        this.openApi = openApiDocument();
    }

    void register(Router router) {
        router.add(HttpMethod.GET, HEALTHZ, this::healthz);
        router.add(HttpMethod.GET, READYZ, this::readyz);
        router.add(HttpMethod.GET, METRICS, this::metrics);
        router.add(HttpMethod.GET, AdminServer.API + "/revision", this::revision);
        router.add(HttpMethod.GET, AdminServer.API + "/routing", this::routing);
        router.add(HttpMethod.GET, OPENAPI, r -> ApiResponse.raw(HttpResponseStatus.OK, ApiResponse.JSON, openApi));
    }

    /** The OpenAPI document served and kept in the repository ({@code admin/src/main/resources/openapi.json}). */
    static byte[] openApiDocument() {
        try (InputStream in = SystemResources.class.getResourceAsStream("/openapi.json")) {
            if (in == null) {
                throw new IllegalStateException("openapi.json is missing from the admin jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ApiResponse healthz(ApiRequest request) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("status", "up");
        return ApiResponse.ok(root);
    }

    private ApiResponse readyz(ApiRequest request) {
        Readiness r = proxy.readiness();
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("ready", r.ready());
        root.put("listeners-bound", r.listenersBound());
        // a shared store that is down does not make the node unready: it routes on with the last table it saw
        root.put("route-store", changes.storeAvailable() ? "up" : "down");
        ObjectNode pools = root.putObject("healthy-backends");
        new TreeMap<>(r.healthyBackends()).forEach(pools::put);
        ArrayNode without = root.putArray("pools-without-backend");
        r.poolsWithoutBackend().forEach(without::add);
        return ApiResponse.json(r.ready() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, root);
    }

    private ApiResponse metrics(ApiRequest request) {
        ExpositionFormatWriter writer = formats.findWriter(request.headers().get(HttpHeaderNames.ACCEPT));
        if (!writer.isAvailable()) {
            // the protobuf format needs a module this build does not ship: plain text is always there
            writer = formats.getPrometheusTextFormatWriter();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ApiResponse.raw(HttpResponseStatus.OK, writer.getContentType(), out.toByteArray());
    }

    private ApiResponse revision(ApiRequest request) {
        RoutingTable table = changes.current();
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("revision", table.revision());
        return ApiResponse.ok(root).withRevision(table.revision());
    }

    private ApiResponse routing(ApiRequest request) {
        RoutingTable table = changes.current();
        return ApiResponse.ok(RoutingJson.toTree(table, true)).withRevision(table.revision());
    }
}
