package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ConfigProblem;
import dev.postern.config.LocalRouteStore;
import dev.postern.config.RouteStore;
import dev.postern.config.RoutingTable;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** A shared route store that cannot be reached: writes are 503 problems, reads and readiness go on. */
class StoreUnavailableTest {
    /** A store whose server is gone: it answers the last table and refuses every change. */
    private static final class UnreachableStore implements RouteStore {
        final RouteStore last = LocalRouteStore.inMemory(AdminFixture.seed());
        volatile boolean outcomeUnknown;

        @Override
        public RoutingTable current() {
            return last.current();
        }

        @Override
        public RoutingTable update(long expectedRevision, UnaryOperator<RoutingTable> change) throws IOException {
            change.apply(last.current());
            throw new StoreUnavailableException("redis 10.0.0.5:6379: connection refused", outcomeUnknown, null);
        }

        @Override
        public void subscribe(Consumer<RoutingTable> listener) {}

        @Override
        public void addValidator(Function<RoutingTable, List<ConfigProblem>> validator) {}

        @Override
        public boolean available() {
            return false;
        }
    }

    @Test
    void aWriteToAnUnreachableStoreIs503WithAProblemDocument() {
        try (AdminFixture admin = AdminFixture.startWithStore(new UnreachableStore())) {
            AdminFixture.Reply r = admin.send("PUT", "/api/v1/routes/users/bob@example.com", "{\"pool\": \"postfix\"}");

            assertThat(r.status()).isEqualTo(503);
            assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
            assertThat(r.json().get("type").asText()).isEqualTo("urn:postern:problem:store-unavailable");
            assertThat(r.json().get("title").asText()).isEqualTo("The route store is unavailable");
            assertThat(r.json().get("status").asInt()).isEqualTo(503);
            assertThat(r.json().get("detail").asText())
                    .isEqualTo("the shared route store cannot be reached; nothing was changed (routing goes on with"
                            + " revision 1)");
            assertThat(r.body()).doesNotContain("10.0.0.5");
        }
    }

    @Test
    void aChangeSentButNotConfirmedSaysItMayHaveBeenApplied() {
        UnreachableStore store = new UnreachableStore();
        store.outcomeUnknown = true;
        try (AdminFixture admin = AdminFixture.startWithStore(store)) {
            AdminFixture.Reply r = admin.send("POST", "/api/v1/pools/dovecot/backends/d2/drain", null);

            assertThat(r.status()).isEqualTo(503);
            assertThat(r.json().get("detail").asText())
                    .startsWith("the shared route store did not confirm the change in time: it may have been applied");
        }
    }

    @Test
    void readsAndReadinessGoOnAndReadinessShowsTheStoreDown() {
        try (AdminFixture admin = AdminFixture.startWithStore(new UnreachableStore())) {
            assertThat(admin.get("/api/v1/routes/users/vip@example.com").status())
                    .isEqualTo(200);

            AdminFixture.Reply ready = admin.send("GET", "/readyz", null, null);

            assertThat(ready.status()).isEqualTo(200);
            assertThat(ready.json().get("route-store").asText()).isEqualTo("down");
        }
    }

    @Test
    void aLocalStoreIsAlwaysUp() {
        try (AdminFixture admin = AdminFixture.start()) {
            assertThat(admin.send("GET", "/readyz", null, null)
                            .json()
                            .get("route-store")
                            .asText())
                    .isEqualTo("up");
        }
    }
}
