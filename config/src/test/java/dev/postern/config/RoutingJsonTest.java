package dev.postern.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RoutingJsonTest {
    static RoutingTable sample(long revision) {
        Backend b1 = new Backend(
                "d1",
                "10.0.0.1",
                143,
                Map.of(Protocol.POP3, 110),
                3,
                Backend.State.ACTIVE,
                100,
                TlsMode.STARTTLS,
                false,
                Backend.Identity.ID,
                Optional.of(new Backend.MasterLogin("proxy-master", Secret.of("master-pw"))));
        Backend b2 = new Backend(
                "d2",
                "mail2.internal",
                143,
                Map.of(),
                1,
                Backend.State.DRAINING,
                0,
                TlsMode.NONE,
                true,
                Backend.Identity.NONE,
                Optional.empty());
        return new RoutingTable(
                revision,
                List.of(new Pool("dovecot", Pool.Balancer.CONSISTENT_HASH, List.of(b1, b2))),
                new Routes(
                        Map.of("vip@example.com", "dovecot"),
                        Map.of("*.example.com", "dovecot"),
                        Optional.of("dovecot")));
    }

    @Test
    void aTableSurvivesARoundTrip() throws ConfigException {
        RoutingTable table = sample(7);
        assertThat(RoutingJson.read(RoutingJson.write(table))).isEqualTo(table);
    }

    @Test
    void apiDocumentsRedactSecrets() {
        String json = RoutingJson.toTree(sample(1), true).toString();
        assertThat(json).contains("\"master-password\":\"***\"").doesNotContain("master-pw");
    }

    @Test
    void everyProblemComesBackWithItsJsonPath() {
        assertThatThrownBy(
                        () -> RoutingJson.read(
                                """
                        {"revision": -3,
                         "pools": [{"name": "p", "backends": [{"address": "10.0.0.1:143", "weight": 0}]}],
                         "routes": {"users": {"a@b.c": "q"}},
                         "extra": 1}
                        """))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .extracting(ConfigProblem::toString)
                        .containsExactlyInAnyOrder(
                                "extra: unknown key (known keys: revision, pools, routes)",
                                "revision: '-3' is not a revision (a whole number >= 0)",
                                "pools[0].backends[0].weight: 0 must be between 1 and 1000",
                                "routes.users.a@b.c: no pool named 'q' (pools: p)"));
    }

    @Test
    void syntaxErrorsSayWhere() {
        assertThatThrownBy(() -> RoutingJson.read("{\"pools\": [}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("JSON syntax error at line 1, column 12");
    }

    @Test
    void crossCheckFindsRoutesToPoolsThatAreGone() {
        RoutingTable t = sample(1);
        RoutingTable broken = new RoutingTable(2, List.of(), t.routes());
        assertThat(RoutingJson.crossCheck(broken))
                .extracting(ConfigProblem::toString)
                .containsExactly(
                        "routes.users.vip@example.com: no pool named 'dovecot'",
                        "routes.domains.*.example.com: no pool named 'dovecot'",
                        "routes.default: no pool named 'dovecot'");
    }
}
