package dev.postern.config;

import static dev.postern.config.ConfigTexts.POOLS;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LdapConfigTest {
    private static final String LISTENER =
            """
            listeners:
              - {name: imap, protocol: imap, bind: 127.0.0.1:1143, pool: dovecot, auth: [directory]}
            """;

    @TempDir
    Path dir;

    private PosternConfig load(String provider) throws Exception {
        Files.writeString(dir.resolve("ca.pem"), "not checked by the loader\n");
        return parse("auth:\n  providers:\n" + provider + LISTENER + POOLS, dir, Map.of("LDAP_PW", "svc-s3cret"));
    }

    private List<String> problemsIn(String provider) throws Exception {
        Files.writeString(dir.resolve("ca.pem"), "not checked by the loader\n");
        return problems(
                "auth:\n  providers:\n" + provider + LISTENER + POOLS, dir, Map.of("LDAP_PW", "svc-s3cret")::get);
    }

    @Test
    void readsASearchThenBindProviderWithEverySetting() throws Exception {
        PosternConfig config = load(
                """
                    - name: directory
                      type: ldap
                      servers: ["ldap://ldap1.internal", "ldap://ldap2.internal:1389"]
                      starttls: true
                      tls-verify: true
                      ca: ca.pem
                      search:
                        base: ou=people,dc=example,dc=test
                        filter: (&(objectClass=inetOrgPerson)(mail=%u))
                        scope: one
                        bind-dn: cn=postern,ou=services,dc=example,dc=test
                        bind-password: "${env:LDAP_PW}"
                      attributes: {pool: posternPool, host: mailHost, port: mailPort, user: uid, master: posternMaster}
                      master-password: m4ster
                      connect-timeout: 1s
                      timeout: 2s
                      pool-size: 4
                      health-check-interval: 10s
                """);

        LdapConfig ldap = (LdapConfig) config.auth().providers().get(0);
        assertThat(ldap.mode()).isEqualTo(LdapConfig.Mode.SEARCH_THEN_BIND);
        assertThat(ldap.servers())
                .containsExactly(URI.create("ldap://ldap1.internal:389"), URI.create("ldap://ldap2.internal:1389"));
        assertThat(ldap.startTls()).isTrue();
        assertThat(ldap.ca()).contains(dir.resolve("ca.pem"));
        LdapConfig.Search search = ldap.search().orElseThrow();
        assertThat(search.base()).isEqualTo("ou=people,dc=example,dc=test");
        assertThat(search.filter()).isEqualTo("(&(objectClass=inetOrgPerson)(mail=%u))");
        assertThat(search.scope()).isEqualTo(LdapConfig.Scope.ONE);
        assertThat(search.bindDn()).contains("cn=postern,ou=services,dc=example,dc=test");
        assertThat(search.bindPassword().orElseThrow().reveal()).isEqualTo("svc-s3cret");
        assertThat(ldap.attributes().names())
                .containsExactly("posternPool", "mailHost", "mailPort", "uid", "posternMaster");
        assertThat(ldap.connectTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(ldap.timeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(ldap.poolSize()).isEqualTo(4);
        assertThat(ldap.healthCheckInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(ldap.toString()).doesNotContain("svc-s3cret").doesNotContain("m4ster");
        assertThat(ConfigJson.toTree(config).toString())
                .doesNotContain("svc-s3cret")
                .doesNotContain("m4ster");
    }

    @Test
    void aBindAsUserProviderHasDefaults() throws Exception {
        PosternConfig config = load(
                """
                    - name: directory
                      type: ldap
                      servers: ["ldaps://ldap.internal"]
                      bind-dn-template: "uid=%n,ou=people,dc=example,dc=test"
                """);

        LdapConfig ldap = (LdapConfig) config.auth().providers().get(0);
        assertThat(ldap.mode()).isEqualTo(LdapConfig.Mode.BIND_AS_USER);
        assertThat(ldap.servers()).containsExactly(URI.create("ldaps://ldap.internal:636"));
        assertThat(ldap.bindDnTemplate()).contains("uid=%n,ou=people,dc=example,dc=test");
        assertThat(ldap.startTls()).isFalse();
        assertThat(ldap.tlsVerify()).isTrue();
        assertThat(ldap.ca()).isEmpty();
        assertThat(ldap.attributes()).isEqualTo(LdapConfig.Attributes.NONE);
        assertThat(ldap.masterPassword()).isEqualTo(Optional.empty());
        assertThat(ldap.timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(ldap.connectTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(ldap.poolSize()).isEqualTo(8);
        assertThat(ldap.healthCheckInterval()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void everyProblemIsNamedWithItsPathAndValue() throws Exception {
        List<String> problems = problemsIn(
                """
                    - name: directory
                      type: ldap
                      servers: ["http://ldap.internal", "ldaps://ldap2", "ldap://u@ldap3", "ldap://ldap4/dc=x"]
                      starttls: yes-please
                      ca: missing.pem
                      bind-dn-template: "uid=%x,dc=test"
                      url: http://x/
                      attributes: {pool: "pool name", port: mailPort, groups: memberOf}
                      pool-size: 0
                      timeout: 5 parsecs
                    - name: two
                      type: ldap
                      servers: []
                    - name: three
                      type: ldap
                      servers: ["ldaps://ldap"]
                      starttls: true
                      bind-dn-template: "uid=%u"
                      search: {base: "dc=test", filter: "(uid=%u)"}
                      attributes: {master: posternMaster}
                    - name: four
                      type: ldap
                      servers: ["ldap://ldap"]
                      ca: ca.pem
                      master-password: x
                      search: {base: " ", filter: "uid=%u", bind-dn: "cn=svc", scop: sub}
                    - name: five
                      type: ldap
                      servers: ["ldap://ldap"]
                      search: {base: "dc=test", filter: "(objectClass=person)", bind-password: x, scope: deep}
                """);

        assertThat(problems)
                .containsExactlyInAnyOrder(
                        "auth.providers[0].url: is not a setting of ldap providers (its keys: "
                                + String.join(", ", LdapReader.KEYS) + ")",
                        "auth.providers[0].servers[0]: 'http://ldap.internal' is not an ldap:// or ldaps:// URL",
                        "auth.providers[0].servers[2]: has user info (user@); the service account belongs in"
                                + " search.bind-dn",
                        "auth.providers[0].servers[3]: 'ldap://ldap4/dc=x' has a DN or query; only scheme, host and"
                                + " port are used (the base DN goes in search.base)",
                        "auth.providers[0].starttls: 'yes-please' is not true or false",
                        "auth.providers[0].ca: " + dir.resolve("missing.pem") + " does not exist",
                        "auth.providers[0].bind-dn-template: 'uid=%x,dc=test' has '%x', which is not a placeholder"
                                + " (%u the user, %n its part before @, %d after @, %% a %)",
                        "auth.providers[0].attributes.groups: unknown key (known keys: pool, host, port, user,"
                                + " master)",
                        "auth.providers[0].attributes.pool: 'pool name' is not an attribute name (letters, digits and"
                                + " '-', or an OID)",
                        "auth.providers[0].pool-size: 0 must be between 1 and 1000",
                        "auth.providers[0].timeout: '5 parsecs' is not a duration (unit 'parsecs' is not one of "
                                + Units.DURATION_UNITS + ")",
                        "auth.providers[1].servers: is empty (ldap:// or ldaps:// URLs, tried in order)",
                        "auth.providers[1]: needs bind-dn-template (bind as the user) or search (search then bind)",
                        "auth.providers[2]: has both bind-dn-template and search; choose one (bind as the user, or"
                                + " search then bind)",
                        "auth.providers[2].attributes.master: names master users, so the provider needs"
                                + " master-password (their password)",
                        "auth.providers[2].servers[0]: 'ldaps://ldap:636' is TLS from the start; starttls: true is for"
                                + " ldap:// only (use ldap:// here, or drop starttls)",
                        "auth.providers[3].master-password: is used only with attributes.master (the attribute naming"
                                + " the master user)",
                        "auth.providers[3].ca: is used only with ldaps:// servers or starttls: true",
                        "auth.providers[3].search.scop: unknown key (did you mean 'scope'?)",
                        "auth.providers[3].search.base: is empty (the DN the search starts at)",
                        "auth.providers[3].search.filter: 'uid=%u' is not an LDAP filter (it must be in parentheses,"
                                + " with balanced parentheses, e.g. (mail=%u))",
                        "auth.providers[3].search.bind-password: is required with bind-dn (omit both for an anonymous"
                                + " search)",
                        "auth.providers[4].search.filter: '(objectClass=person)' does not mention the user (%u, %n or"
                                + " %d)",
                        "auth.providers[4].search.scope: 'deep' is not one of base, one, sub",
                        "auth.providers[4].search.bind-dn: is required with bind-password (omit both for an anonymous"
                                + " search)");
    }
}
