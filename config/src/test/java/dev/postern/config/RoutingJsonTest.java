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

    /**
     * Found by AdminBodyJsonFuzzTest (found-pool-backend-host-not-a-name): such a pool was accepted, and its id, made
     * of the host, then refused when the store read the file back.
     */
    @Test
    void aPasswordHoldingALiteralReferenceReadsBackAsItWas() throws ConfigException {
        String json =
                """
                {"revision": 1, "pools": [{"name": "p", "backends": [{"id": "b", "host": "10.0.0.1", "port": 143,
                  "master-user": "u$${x}", "master-password": "a$${env:HOME}b$$${c"}]}],
                 "routes": {"users": {}, "domains": {}}}
                """;
        RoutingTable table = RoutingJson.read(json);
        Backend b = table.pools().get(0).backends().get(0);
        assertThat(b.master().orElseThrow().password().reveal()).isEqualTo("a${env:HOME}b$${c");
        assertThat(b.master().orElseThrow().user()).isEqualTo("u${x}");

        RoutingTable again = RoutingJson.read(RoutingJson.write(table));

        assertThat(again).isEqualTo(table);
        assertThat(again.pools()
                        .get(0)
                        .backends()
                        .get(0)
                        .master()
                        .orElseThrow()
                        .password()
                        .reveal())
                .isEqualTo("a${env:HOME}b$${c");
    }

    @Test
    void aBackendHostMustBeAHostNameOrAddress() throws ConfigException {
        for (String body : List.of(
                "{\"name\": \"eu\", \"backends\": [{\"address\": \"10.0.0*1:143\"}]}",
                "{\"name\": \"eu\", \"backends\": [{\"host\": \"mail/1\", \"port\": 143}]}")) {
            assertThatThrownBy(() -> RoutingJson.readPool(RoutingJson.parse(body)))
                    .isInstanceOf(ConfigException.class)
                    .satisfies(e -> assertThat(((ConfigException) e).problems())
                            .extracting(ConfigProblem::toString)
                            .singleElement()
                            .asString()
                            .contains("is not a host name or address"));
        }
        Pool v6 = RoutingJson.readPool(
                RoutingJson.parse(
                        "{\"name\": \"eu\", \"backends\": [{\"address\": \"[::1]:143\"}, {\"host\": \"mail_2.internal\", \"port\": 143}]}"));
        assertThat(v6.backends()).extracting(Backend::id).containsExactly("[::1]:143", "mail_2.internal:143");
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

    @Test
    void aPoolDocumentReportsPathsRelativeToItself() {
        assertThatThrownBy(
                        () -> RoutingJson.readPool(
                                RoutingJson.parse(
                                        """
                        {"name": "Pool", "balancer": "random",
                         "backends": [{"address": "10.0.0.1:143"}, {"host": "10.0.0.2", "weight": 0, "colour": 1}]}
                        """)))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems())
                        .extracting(ConfigProblem::toString)
                        .containsExactlyInAnyOrder(
                                "name: 'Pool' is not a valid name (lowercase letters, digits, '-' and '_', starting"
                                        + " with a letter or digit)",
                                "balancer: 'random' is not one of round-robin, least-sessions, consistent-hash",
                                "backends[1].colour: unknown key (known keys: id, address, host, port, ports,"
                                        + " weight, state, max-sessions, tls, tls-verify, identity, master-user,"
                                        + " master-password)",
                                "backends[1]: needs a port (in address, port or ports)",
                                "backends[1].weight: 0 must be between 1 and 1000"));
    }

    @Test
    void aPoolDocumentReadsLikeThePoolsOfATable() throws ConfigException {
        RoutingTable table = sample(3);
        Pool pool = table.pools().get(0);

        assertThat(RoutingJson.readPool(RoutingJson.toTree(pool, false))).isEqualTo(pool);
    }

    @Test
    void aBackendDocumentReadsOnItsOwn() throws ConfigException {
        Backend backend = sample(3).pools().get(0).backends().get(0);

        assertThat(RoutingJson.readBackend(RoutingJson.toTree(backend, false))).isEqualTo(backend);
        assertThatThrownBy(() -> RoutingJson.readBackend(RoutingJson.parse("{\"address\": \"10.0.0.1:99999\"}")))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems())
                        .extracting(ConfigProblem::toString)
                        .containsExactly("address: 99999 is not a port (1-65535)"));
        assertThatThrownBy(() -> RoutingJson.readBackend(RoutingJson.parse("")))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems())
                        .extracting(ConfigProblem::toString)
                        .containsExactly("the document is empty (a backend needs an address)"));
    }

    @Test
    void routeKeysAreCheckedLikeTheRoutesSection() {
        assertThat(RoutingJson.userKeyProblem("bob@example.com")).isEmpty();
        assertThat(RoutingJson.userKeyProblem("bob smith")).contains("is not a user name");
        assertThat(RoutingJson.domainKeyProblem("*.example.com")).isEmpty();
        assertThat(RoutingJson.domainKeyProblem("example..com")).contains("is not a domain or *.domain");
    }

    @Test
    void aPinnedUserSurvivesARoundTripAndAPinWithoutAUserRouteIsRefused() throws ConfigException {
        RoutingTable t = sample(3);
        RoutingTable pinned =
                new RoutingTable(3, t.pools(), t.routes().withUser("Carol@Example.com", "dovecot", Optional.of("d2")));

        assertThat(RoutingJson.read(RoutingJson.write(pinned))).isEqualTo(pinned);
        assertThat(RoutingJson.toTree(pinned.routes()).toString()).contains("\"pins\":{\"carol@example.com\":\"d2\"}");
        assertThatThrownBy(() -> RoutingJson.read(
                        "{\"pools\": [{\"name\": \"p\", \"backends\": [{\"id\": \"a\", \"address\": \"10.0.0.1:143\"}]}],"
                                + " \"routes\": {\"pins\": {\"bob@example.com\": \"a\"}}}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("routes.pins.bob@example.com: user 'bob@example.com' has no user route");
    }

    @Test
    void crossCheckFindsAPinToABackendThatIsNotInThePool() {
        RoutingTable t = sample(1);
        RoutingTable broken =
                new RoutingTable(2, t.pools(), t.routes().withUser("carol@example.com", "dovecot", Optional.of("d9")));

        assertThat(RoutingJson.crossCheck(broken))
                .extracting(ConfigProblem::toString)
                .containsExactly("routes.pins.carol@example.com: no backend 'd9' in pool 'dovecot'");
    }

    @Test
    void aPinGoesWithItsUserRoute() {
        Routes pinned = sample(1).routes().withUser("carol@example.com", "dovecot", Optional.of("d2"));

        assertThat(pinned.pin("CAROL@example.com")).contains("d2");
        assertThat(pinned.withDefaultPool(Optional.empty()).pin("carol@example.com"))
                .contains("d2");
        assertThat(pinned.withUsers(Map.of()).pin("carol@example.com")).isEmpty();
        assertThat(pinned.withUser("carol@example.com", "dovecot", Optional.empty())
                        .pin("carol@example.com"))
                .isEmpty();
    }
}
