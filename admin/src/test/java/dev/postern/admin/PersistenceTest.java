package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Backend;
import dev.postern.config.ConfigProblem;
import dev.postern.config.LocalRouteStore;
import dev.postern.config.RouteStore;
import dev.postern.config.RoutingTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Changes are on disk before the 2xx, and a restarted Postern starts from them. */
class PersistenceTest {
    @TempDir
    Path dir;

    @Test
    void aChangeIsInTheFileWhenTheAnswerArrives() throws Exception {
        Path file = dir.resolve("routes.json");
        try (AdminFixture admin = AdminFixture.startWithStoreFile(file)) {
            AdminFixture.Reply r = admin.send("PUT", "/api/v1/routes/domains/example.org", "{\"pool\": \"postfix\"}");

            assertThat(r.status()).isEqualTo(201);
            String onDisk = Files.readString(file);
            assertThat(onDisk).contains("\"example.org\" : \"postfix\"").contains("\"revision\" : 2");
        }
    }

    @Test
    void changesSurviveARestartOnTheSameFile() {
        Path file = dir.resolve("routes.json");
        try (AdminFixture admin = AdminFixture.startWithStoreFile(file)) {
            assertThat(admin.send("PUT", "/api/v1/routes/users/bob@example.com", "{\"pool\": \"postfix\"}")
                            .status())
                    .isEqualTo(201);
            assertThat(admin.send("POST", "/api/v1/pools/dovecot/backends/d2/drain", null)
                            .status())
                    .isEqualTo(200);
            assertThat(admin.send(
                                    "POST",
                                    "/api/v1/pools",
                                    "{\"name\": \"fast\", \"backends\": [{\"address\": \"10.0.9.1:143\"}]}")
                            .status())
                    .isEqualTo(201);
        }

        try (AdminFixture restarted = AdminFixture.startWithStoreFile(file)) {
            assertThat(restarted.get("/api/v1/revision").json().get("revision").asLong())
                    .isEqualTo(4);
            assertThat(restarted
                            .get("/api/v1/routes/users/bob@example.com")
                            .json()
                            .get("pool")
                            .asText())
                    .isEqualTo("postfix");
            assertThat(restarted
                            .get("/api/v1/pools/dovecot/backends/d2")
                            .json()
                            .get("state")
                            .asText())
                    .isEqualTo("draining");
            assertThat(restarted.get("/api/v1/pools/fast").status()).isEqualTo(200);
            // the master password survived although the API only ever showed "***"
            Backend d1 = restarted
                    .store
                    .current()
                    .pool("dovecot")
                    .orElseThrow()
                    .backend("d1")
                    .orElseThrow();
            assertThat(d1.master().orElseThrow().password().reveal()).isEqualTo("master-pw");
        }
    }

    @Test
    void aWriteThatCannotBeSavedIs500AndChangesNothing() {
        RouteStore disk = LocalRouteStore.inMemory(AdminFixture.seed());
        RouteStore full = new RouteStore() {
            @Override
            public RoutingTable current() {
                return disk.current();
            }

            @Override
            public RoutingTable update(long expectedRevision, UnaryOperator<RoutingTable> change) throws IOException {
                change.apply(disk.current());
                throw new IOException("No space left on device");
            }

            @Override
            public void subscribe(Consumer<RoutingTable> listener) {}

            @Override
            public void addValidator(Function<RoutingTable, List<ConfigProblem>> validator) {}
        };
        try (AdminFixture admin = AdminFixture.startWithStore(full)) {
            AdminFixture.Reply r = admin.send("PUT", "/api/v1/routes/users/bob@example.com", "{\"pool\": \"postfix\"}");

            assertThat(r.status()).isEqualTo(500);
            assertThat(r.json().get("detail").asText()).isEqualTo("the change could not be saved; nothing was changed");
            assertThat(r.body()).doesNotContain("No space");
            assertThat(admin.get("/api/v1/routes/users/bob@example.com").status())
                    .isEqualTo(404);
        }
    }
}
