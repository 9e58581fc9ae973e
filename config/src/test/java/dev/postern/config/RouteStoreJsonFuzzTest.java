package dev.postern.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Fuzzes the route store's file reader ({@link RoutingJson#read(String)}), which reads what the store wrote and what
 * an operator (or a shared store) put there. Properties: a document is read or refused with a {@link ConfigException}
 * naming at least one problem, never another exception; a table read, written out again as the store writes it,
 * reads back equal; its cross-check passes or fails without throwing. The seed corpus is in
 * {@code RouteStoreJsonFuzzTestInputs/}.
 */
class RouteStoreJsonFuzzTest {

    @FuzzTest
    void aRouteStoreFileReadsBackAsWritten(byte[] input) {
        String json = new String(input, StandardCharsets.UTF_8);
        RoutingTable table;
        try {
            table = RoutingJson.read(json);
        } catch (ConfigException e) {
            assertThat(e.problems()).isNotEmpty();
            return;
        }
        RoutingJson.crossCheck(table);
        String written = RoutingJson.write(table);
        try {
            assertThat(RoutingJson.read(written))
                    .as("read back from %s", written)
                    .isEqualTo(table);
        } catch (ConfigException e) {
            throw new AssertionError("what was written does not read back: " + written + ": " + e.problems(), e);
        }
    }
}
