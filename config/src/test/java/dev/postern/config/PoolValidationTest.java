package dev.postern.config;

import static dev.postern.config.ConfigTexts.MINIMAL;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PoolValidationTest {

    private static String pools(String yaml) {
        return MINIMAL + yaml;
    }

    @Test
    void readsEveryPoolAndBackendOption() throws ConfigException {
        Pool pool = parse(
                        pools(
                                """
                        pools:
                          - name: dovecot
                            balancer: consistent-hash
                            backends:
                              - id: dovecot1
                                host: 10.0.0.1
                                port: 143
                                ports: {imap: 2143, pop3: 2110, smtp: 2587}
                                weight: 1000
                                state: draining
                                max-sessions: 500
                                tls: starttls
                                tls-verify: false
                                identity: proxy-v2
                        """))
                .pool("dovecot")
                .orElseThrow();

        assertThat(pool.balancer()).isEqualTo(Pool.Balancer.CONSISTENT_HASH);
        Backend backend = pool.backend("dovecot1").orElseThrow();
        assertThat(backend)
                .isEqualTo(new Backend(
                        "dovecot1",
                        "10.0.0.1",
                        143,
                        Map.of(Protocol.IMAP, 2143, Protocol.POP3, 2110, Protocol.SMTP, 2587),
                        1000,
                        Backend.State.DRAINING,
                        500,
                        TlsMode.STARTTLS,
                        false,
                        Backend.Identity.PROXY_V2,
                        java.util.Optional.empty()));
        assertThat(backend.portFor(Protocol.TCP)).isEqualTo(143);
    }

    @Test
    void backendDefaults() throws ConfigException {
        Pool pool = parse(pools("pools:\n  - name: p\n    backends:\n      - address: 10.0.0.1:143\n"))
                .pool("p")
                .orElseThrow();

        assertThat(pool.balancer()).isEqualTo(Pool.Balancer.CONSISTENT_HASH);
        assertThat(pool.healthCheck()).isEqualTo(HealthCheckConfig.DEFAULTS);
        assertThat(pool.backends())
                .containsExactly(new Backend(
                        "10.0.0.1:143",
                        "10.0.0.1",
                        143,
                        Map.of(),
                        1,
                        Backend.State.ACTIVE,
                        0,
                        TlsMode.NONE,
                        true,
                        Backend.Identity.NONE,
                        java.util.Optional.empty()));
    }

    @Test
    void idDefaultsToHostWhenOnlyPerProtocolPortsAreGiven() throws ConfigException {
        Pool pool = parse(
                        pools(
                                """
                        pools:
                          - name: p
                            backends:
                              - {host: "::1", ports: {imap: 143}}
                              - {host: mail.internal, ports: {imap: 143}}
                        """))
                .pool("p")
                .orElseThrow();

        assertThat(pool.backends()).extracting(Backend::id).containsExactly("[::1]", "mail.internal");
        assertThat(pool.backends().get(0).port()).isZero();
    }

    @Test
    void nameAndBackendsAreRequired() {
        assertThat(problems(pools("pools:\n  - balancer: round-robin\n")))
                .containsExactly("pools[0].name: is required", "pools[0].backends: is required");
    }

    @Test
    void backendsMustNotBeEmpty() {
        assertThat(problems(pools("pools:\n  - name: p\n    backends: []\n")))
                .containsExactly("pools[0].backends: is empty (a pool needs at least one backend)");
    }

    @Test
    void poolNamesAreValidAndUnique() {
        assertThat(
                        problems(
                                pools(
                                        """
                        pools:
                          - {name: Dovecot, backends: [{address: 10.0.0.1:143}]}
                          - {name: p, backends: [{address: 10.0.0.1:143}]}
                          - {name: p, backends: [{address: 10.0.0.1:143}]}
                        """)))
                .containsExactly(
                        "pools[0].name: 'Dovecot' is not a valid name (lowercase letters, digits, '-' and '_', starting"
                                + " with a letter or digit)",
                        "pools[2].name: 'p' is already used by pools[1]");
    }

    @Test
    void balancerMustBeKnown() {
        assertThat(problems(pools("pools:\n  - {name: p, balancer: random, backends: [{address: 10.0.0.1:1}]}\n")))
                .containsExactly(
                        "pools[0].balancer: 'random' is not one of round-robin, least-sessions, consistent-hash");
    }

    @Test
    void backendNeedsAnAddressOrHost() {
        assertThat(problems(pools("pools:\n  - {name: p, backends: [{port: 143}]}\n")))
                .containsExactly("pools[0].backends[0]: needs address (host:port) or host");
    }

    @Test
    void backendNeedsSomePort() {
        assertThat(problems(pools("pools:\n  - {name: p, backends: [{host: 10.0.0.1}]}\n")))
                .containsExactly("pools[0].backends[0]: needs a port (in address, port or ports)");
    }

    @Test
    void addressExcludesHostAndPort() {
        assertThat(
                        problems(
                                pools(
                                        """
                        pools:
                          - name: p
                            backends:
                              - {address: 10.0.0.1:143, host: 10.0.0.2}
                              - {address: 10.0.0.2:143, port: 993}
                        """)))
                .containsExactly(
                        "pools[0].backends[0].host: give either address or host and port, not both",
                        "pools[0].backends[1].port: give either address or host and port, not both");
    }

    @Test
    void backendPortsAreChecked() {
        assertThat(
                        problems(
                                pools(
                                        """
                        pools:
                          - name: p
                            backends:
                              - {id: a, address: 10.0.0.1:0}
                              - {id: b, host: 10.0.0.1, port: 70000}
                              - {id: c, host: 10.0.0.1, ports: {imap: -1}}
                              - {id: d, host: 10.0.0.1, ports: {imapx: 143}}
                        """)))
                .containsExactly(
                        "pools[0].backends[0].address: 0 is not a port (1-65535)",
                        "pools[0].backends[1].port: 70000 is not a port (1-65535)",
                        "pools[0].backends[2].ports.imap: -1 is not a port (1-65535)",
                        "pools[0].backends[3].ports.imapx: unknown key (did you mean 'imap'?)");
    }

    @Test
    void backendAddressCannotBeAWildcard() {
        assertThat(
                        problems(
                                pools(
                                        """
                        pools:
                          - name: p
                            backends:
                              - {address: "*:143"}
                              - {host: 0.0.0.0, port: 143}
                        """)))
                .containsExactly(
                        "pools[0].backends[0].address: '*:143' is not a backend address (a wildcard is only for bind)",
                        "pools[0].backends[1].host: '0.0.0.0' is not a backend host (a wildcard is only for bind)");
    }

    @Test
    void backendIdsAreUniqueInAPool() {
        assertThat(
                        problems(
                                pools(
                                        """
                        pools:
                          - name: p
                            backends:
                              - {id: one, address: 10.0.0.1:143}
                              - {id: one, address: 10.0.0.2:143}
                              - {address: 10.0.0.3:143}
                              - {address: 10.0.0.3:143}
                          - name: q
                            backends:
                              - {id: one, address: 10.0.0.1:143}
                        """)))
                .containsExactly(
                        "pools[0].backends[1].id: 'one' is already used by pools[0].backends[0]",
                        "pools[0].backends[3]: id '10.0.0.3:143' (from its address) is already used by"
                                + " pools[0].backends[2]; give each an id");
    }

    @Test
    void backendIdHasNoSpaces() {
        assertThat(problems(pools("pools:\n  - {name: p, backends: [{id: my backend, address: 10.0.0.1:1}]}\n")))
                .containsExactly(
                        "pools[0].backends[0].id: 'my backend' is not a valid id (letters, digits, '.', '_', ':', '-')");
    }

    @Test
    void backendNumbersAreRangeChecked() {
        assertThat(
                        problems(
                                pools(
                                        """
                        pools:
                          - name: p
                            backends:
                              - {address: 10.0.0.1:143, weight: 1001, max-sessions: -1}
                              - {address: 10.0.0.2:143, weight: 1.5, max-sessions: many}
                        """)))
                .containsExactly(
                        "pools[0].backends[0].weight: 1001 must be between 1 and 1000",
                        "pools[0].backends[0].max-sessions: -1 must be >= 0",
                        "pools[0].backends[1].weight: 1.5 is not a whole number",
                        "pools[0].backends[1].max-sessions: 'many' is not a whole number");
    }

    @Test
    void backendEnumsAreChecked() {
        assertThat(
                        problems(
                                pools(
                                        """
                        pools:
                          - name: p
                            backends:
                              - {address: 10.0.0.1:143, state: up, tls: ssl, identity: proxy_v2, tls-verify: no way}
                        """)))
                .containsExactly(
                        "pools[0].backends[0].state: 'up' is not one of active, draining, disabled",
                        "pools[0].backends[0].tls: 'ssl' is not one of implicit, starttls, none",
                        "pools[0].backends[0].tls-verify: 'no way' is not true or false",
                        "pools[0].backends[0].identity: 'proxy_v2' is not one of none, id, xclient, proxy-v2");
    }

    @Test
    void unknownBackendKeyIsSuggested() {
        assertThat(problems(pools("pools:\n  - {name: p, backends: [{address: 10.0.0.1:1, wieght: 2}]}\n")))
                .containsExactly("pools[0].backends[0].wieght: unknown key (did you mean 'weight'?)");
    }

    @Test
    void masterUserLoginIsReadAndItsPasswordIsSecret() throws ConfigException {
        PosternConfig config = ConfigLoader.parse(
                MINIMAL
                        + """
                        pools:
                          - name: dovecot
                            backends:
                              - address: 127.0.0.1:2143
                                master-user: proxy-master
                                master-password: ${env:MASTER_PW}
                        """,
                Path.of("/nonexistent"),
                Map.of("MASTER_PW", "s3cret-master")::get);
        Backend backend = config.pools().get(0).backends().get(0);
        assertThat(backend.master()).hasValueSatisfying(m -> {
            assertThat(m.user()).isEqualTo("proxy-master");
            assertThat(m.password().reveal()).isEqualTo("s3cret-master");
        });
        assertThat(config.toString()).doesNotContain("s3cret-master");
    }

    @Test
    void masterUserAndPasswordGoTogether() {
        assertThat(
                        problems(
                                MINIMAL
                                        + """
                        pools:
                          - name: dovecot
                            backends:
                              - address: 127.0.0.1:2143
                                master-user: proxy-master
                        """))
                .containsExactly("pools[0].backends[0].master-user: master-user and master-password go together");
    }
}
