package dev.postern.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Fuzzes the readers of the admin API's request bodies: a pool, a backend, routes ({@link RoutingJson#parse} then
 * {@link RoutingJson#readPool}, {@link RoutingJson#readBackend}, {@link RoutingJson#readRoutes}). Properties: a body
 * is read or refused with a {@link ConfigException} naming at least one problem, never another exception; what was
 * read, written out again as the API writes it, reads back equal. The seed corpus is in
 * {@code AdminBodyJsonFuzzTestInputs/}.
 */
class AdminBodyJsonFuzzTest {

    @FuzzTest
    void anAdminBodyReadsBackAsWritten(byte[] input) {
        JsonNode tree;
        try {
            tree = RoutingJson.parse(new String(input, StandardCharsets.UTF_8));
        } catch (ConfigException e) {
            assertThat(e.problems()).isNotEmpty();
            return;
        }
        try {
            Pool pool = RoutingJson.readPool(tree);
            assertThat(again(() -> RoutingJson.readPool(RoutingJson.toTree(pool, false))))
                    .isEqualTo(pool);
        } catch (ConfigException e) {
            assertThat(e.problems()).isNotEmpty();
        }
        try {
            Backend backend = RoutingJson.readBackend(tree);
            assertThat(again(() -> RoutingJson.readBackend(RoutingJson.toTree(backend, false))))
                    .isEqualTo(backend);
        } catch (ConfigException e) {
            assertThat(e.problems()).isNotEmpty();
        }
        Set<String> pools = Set.of("main", "eu", "us");
        try {
            Routes routes = RoutingJson.readRoutes(tree, pools);
            assertThat(again(() -> RoutingJson.readRoutes(RoutingJson.toTree(routes), pools)))
                    .isEqualTo(routes);
        } catch (ConfigException e) {
            assertThat(e.problems()).isNotEmpty();
        }
    }

    /** What the API wrote, read back: a refusal here is a defect, not a refused body. */
    private static <T> T again(Reader<T> reader) {
        try {
            return reader.read();
        } catch (ConfigException e) {
            throw new AssertionError("what was written does not read back: " + e.problems(), e);
        }
    }

    private interface Reader<T> {
        T read() throws ConfigException;
    }
}
