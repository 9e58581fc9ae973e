package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ConfigLoader;
import dev.postern.config.LdapConfig;
import dev.postern.config.PosternConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.Frontends;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.testing.TestLdap;
import dev.postern.testkit.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ldap} provider against a real OpenLDAP started by the test, end to end: Python's imaplib logs in through
 * Postern to the real Dovecot. Every listener's own pool is a dead port, so a login that reaches Dovecot was routed by
 * the directory's {@code posternPool} attribute. The users carry the dev Dovecot's passwords, so the backend login
 * takes the client's credentials.
 */
class LdapAuthIT {
    private static final String LOGIN =
            """
            import imaplib, sys
            m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
            try:
                # quoted: imaplib sends the user name as it is, and '*)(uid=*' is no IMAP atom
                m.login(m._quote(sys.argv[3]), sys.argv[4])
                typ, data = m.select('INBOX')
                print('OK', typ)
                m.logout()
            except imaplib.IMAP4.error as e:
                print('ERR', e)
                m.shutdown()
            """;
    private static final String PEOPLE =
            TestLdap.person(DevBackends.ALICE, DevBackends.ALICE_PASSWORD, "posternPool: dovecot")
                    + TestLdap.person(DevBackends.BOB, DevBackends.BOB_PASSWORD, "posternPool: dovecot");

    @TempDir
    static Path dir;

    static TestCertificates ca;
    static TestLdap ldap;
    static PosternHarness postern;

    @BeforeAll
    static void start() {
        Assumptions.assumeTrue(
                Frontends.forProtocol(Protocol.IMAP).isPresent(), "this build has no IMAP front end yet");
        DevBackends.ensureStarted();
        ca = TestCertificates.newAuthority();
        TestCertificates.Leaf leaf = ca.issue(TestCertificates.KeyType.RSA_2048, "localhost", "localhost");
        Path cert = leaf.writeChain(dir.resolve("ldap-cert.pem"));
        Path key = leaf.writeKey(dir.resolve("ldap-key.pem"), TestCertificates.KeyFormat.PKCS8, null);
        ca.writeCaCertificate(dir.resolve("ca.pem"));
        TestCertificates.newAuthority().writeCaCertificate(dir.resolve("other-ca.pem"));
        ldap = TestLdap.start(PEOPLE, cert, key);
        postern = PosternHarness.start(config(ldap), dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
        if (ldap != null) {
            ldap.close();
        }
    }

    private static String search(String name, String server, String extra) {
        return ("    - {name: %s, type: ldap, servers: [\"%s\"], timeout: 2s, connect-timeout: 1s, %s"
                        + " search: {base: \"%s\", filter: \"(&(objectClass=inetOrgPerson)(mail=%%u))\","
                        + " bind-dn: \"%s\", bind-password: %s}, attributes: {pool: posternPool}}\n")
                .formatted(name, server, extra, TestLdap.PEOPLE, TestLdap.SERVICE_DN, TestLdap.SERVICE_PASSWORD);
    }

    private static String listener(String name, String provider) {
        return "  - {name: %s, protocol: imap, bind: \"127.0.0.1:%d\", allow-plaintext-auth: true, pool: dead, auth: [%s]}\n"
                .formatted(name, FreePorts.next(), provider);
    }

    private static String config(TestLdap directory) {
        return "auth:\n  providers:\n"
                + search("search", directory.ldapUrl(), "")
                + ("    - {name: bind, type: ldap, servers: [\"%s\"], bind-dn-template: \"uid=%%n,%s\","
                                + " attributes: {pool: posternPool}}\n")
                        .formatted(directory.ldapUrl(), TestLdap.PEOPLE)
                + search("ldaps", directory.ldapsUrl(), "ca: ca.pem,")
                + search("wrong-ca", directory.ldapsUrl(), "ca: other-ca.pem,")
                + "listeners:\n"
                + listener("search", "search")
                + listener("bind", "bind")
                + listener("ldaps", "ldaps")
                + listener("wrong-ca", "wrong-ca")
                + pools();
    }

    private static String pools() {
        return """
                pools:
                  - {name: dead, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                """
                .formatted(FreePorts.closed(), DevBackends.IMAP);
    }

    private static String login(PosternHarness p, String listener, String user, String password) {
        Processes.Result r =
                Processes.python(Duration.ofSeconds(30), LOGIN, "127.0.0.1", "" + p.port(listener), user, password);
        assertThat(r.exitCode()).as("%s", r).isZero();
        return r.stdout().trim();
    }

    @Test
    void searchThenBindLogsInAndTheDirectoryRoutesToThePool() {
        assertThat(login(postern, "search", DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                .isEqualTo("OK OK");
        assertThat(login(postern, "search", DevBackends.BOB, DevBackends.BOB_PASSWORD))
                .isEqualTo("OK OK");
    }

    @Test
    void bindAsTheUserLogsIn() {
        assertThat(login(postern, "bind", DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                .isEqualTo("OK OK");
    }

    @Test
    void aWrongPasswordAndAnUnknownUserAreRefusedNotTemporary() {
        for (String listener : new String[] {"search", "bind"}) {
            assertThat(login(postern, listener, DevBackends.ALICE, "not-her-password"))
                    .as(listener)
                    .contains("AUTHENTICATIONFAILED");
            assertThat(login(postern, listener, "nobody@example.test", DevBackends.ALICE_PASSWORD))
                    .as(listener)
                    .contains("AUTHENTICATIONFAILED");
        }
    }

    @Test
    void anInjectionAttemptInTheUserNameMatchesNoOne() throws Exception {
        assertThat(login(postern, "search", "*)(uid=*", DevBackends.ALICE_PASSWORD))
                .contains("AUTHENTICATIONFAILED");
        assertThat(login(postern, "bind", "*)(uid=*", DevBackends.ALICE_PASSWORD))
                .contains("AUTHENTICATIONFAILED");
        // below the client: the search found no entry at all (not two, which would also fail)
        try (LdapProvider provider = new LdapProvider(providerConfig("search"))) {
            for (String user : new String[] {"*)(uid=*", "*", "alice*", "*)(|(mail=*"}) {
                assertThat(provider.authenticate(Requests.login(user, DevBackends.ALICE_PASSWORD))
                                .toCompletableFuture()
                                .get())
                        .as(user)
                        .isEqualTo(Optional.empty());
            }
        }
    }

    @Test
    void ldapsWithTheRightCaLogsInAndWithAnotherCaIsATemporaryFailure() {
        assertThat(login(postern, "ldaps", DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                .isEqualTo("OK OK");
        assertThat(login(postern, "wrong-ca", DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                .contains("UNAVAILABLE");
    }

    @Test
    void aDirectoryStoppedMidRunIsTemporaryAndTheCacheAnswersFromItsLastGoodResult() {
        try (TestLdap dying = TestLdap.start(PEOPLE);
                PosternHarness p = PosternHarness.start(
                        "auth:\n  providers:\n"
                                + search("search", dying.ldapUrl(), "")
                                + "  cache: {ttl: 1ms, negative-ttl: 1ms, refresh-after: 0, stale-if-error: 1h}\n"
                                + "listeners:\n"
                                + listener("search", "search")
                                + pools(),
                        dir)) {
            assertThat(login(p, "search", DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                    .isEqualTo("OK OK");
            dying.stop();

            assertThat(login(p, "search", DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                    .as("a known user within stale-if-error")
                    .isEqualTo("OK OK");
            assertThat(p.postern().auth().stats().cache().staleServed()).isEqualTo(1);
            assertThat(login(p, "search", DevBackends.BOB, DevBackends.BOB_PASSWORD))
                    .as("a login never seen before: try later, never 'wrong password'")
                    .contains("UNAVAILABLE");

            dying.restart();
            assertThat(login(p, "search", DevBackends.BOB, DevBackends.BOB_PASSWORD))
                    .as("back with the directory")
                    .isEqualTo("OK OK");
        }
    }

    private static LdapConfig providerConfig(String name) throws Exception {
        PosternConfig config = ConfigLoader.parse(config(ldap), dir);
        return (LdapConfig) config.auth().providers().stream()
                .filter(p -> p.name().equals(name))
                .findFirst()
                .orElseThrow();
    }
}
