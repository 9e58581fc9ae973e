package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.MailLogins;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.testing.TestLdap;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The directory's attributes route the user and name the backend login, end to end: imaplib through Postern to the
 * real Dovecot, one provider per attribute mapping over one private OpenLDAP. Alice and Bob each own a mailbox with a
 * name of this run, so a LIST shows whose mailbox Dovecot opened.
 */
class LdapAttributesIT {
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    private static final String ALICE_MARK = "ldap-alice-" + RUN;
    private static final String BOB_MARK = "ldap-bob-" + RUN;
    private static final String CAROL = "carol@example.test";
    private static final String ERIN = "erin@example.test";
    private static final String ERIN_PASSWORD = "erin-directory-pw";
    private static final String DAN = "dan@example.test";
    private static final String NOWHERE = "nowhere@example.test";

    @TempDir
    static Path dir;

    static TestLdap ldap;
    static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        for (String[] mark : new String[][] {{DevBackends.ALICE, ALICE_MARK}, {DevBackends.BOB, BOB_MARK}}) {
            Processes.Result r = DevBackends.doveadm("mailbox", "create", "-u", mark[0], mark[1]);
            assertThat(r.exitCode()).as("%s", r).isZero();
        }
        ldap = TestLdap.start(TestLdap.person(
                        DevBackends.ALICE,
                        DevBackends.ALICE_PASSWORD,
                        "mailHost: 127.0.0.1",
                        "mailPort: " + DevBackends.IMAP)
                + TestLdap.person(NOWHERE, "nowhere-pw", "mailHost: 127.0.0.1", "mailPort: " + FreePorts.closed())
                // Carol logs in with Bob's Dovecot password and is Bob on the backend
                + TestLdap.person(CAROL, DevBackends.BOB_PASSWORD, "posternLogin: " + DevBackends.BOB)
                // Erin's password is the directory's only: Dovecot hears the master user's, for Alice
                + TestLdap.person(
                        ERIN,
                        ERIN_PASSWORD,
                        "posternLogin: " + DevBackends.ALICE,
                        "posternMaster: " + DevBackends.MASTER_USER)
                + TestLdap.person(DevBackends.BOB, DevBackends.BOB_PASSWORD, "posternPool: dovecot")
                + TestLdap.person(DAN, DevBackends.BOB_PASSWORD, "posternPool: dead"));
        postern = PosternHarness.start(
                "auth:\n  providers:\n"
                        + provider("host", "{host: mailHost, port: mailPort}", "")
                        + provider("user", "{user: posternLogin}", "")
                        + provider(
                                "master",
                                "{user: posternLogin, master: posternMaster}",
                                "master-password: " + DevBackends.MASTER_PASSWORD + ",")
                        + provider("pool", "{pool: posternPool}", "")
                        + "listeners:\n"
                        + listener("host", "dead")
                        + listener("user", "dovecot")
                        + listener("master", "dovecot")
                        + listener("pool", "dovecot")
                        + """
                        pools:
                          - {name: dead, backends: [{address: "127.0.0.1:%d"}]}
                          - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                        """
                                .formatted(FreePorts.closed(), DevBackends.IMAP),
                dir);
    }

    private static String provider(String name, String attributes, String extra) {
        return ("    - {name: %s, type: ldap, servers: [\"%s\"], timeout: 2s, %s search: {base: \"%s\","
                        + " filter: \"(mail=%%u)\", bind-dn: \"%s\", bind-password: %s}, attributes: %s}\n")
                .formatted(
                        name,
                        ldap.ldapUrl(),
                        extra,
                        TestLdap.PEOPLE,
                        TestLdap.SERVICE_DN,
                        TestLdap.SERVICE_PASSWORD,
                        attributes);
    }

    private static String listener(String name, String pool) {
        return ("  - {name: %s, protocol: imap, bind: \"127.0.0.1:%d\", allow-plaintext-auth: true, pool: %s,"
                        + " auth: [%s], throttle: off}\n")
                .formatted(name, FreePorts.next(), pool, name);
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

    @Test
    void theHostAndPortAttributesNameTheBackendTheLoginLandsOn() {
        // the listener's own pool is a dead port: only the entry's mailHost:mailPort reaches Dovecot
        assertThat(MailLogins.imapMailboxes(postern.port("host"), DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                .startsWith("OK")
                .contains(ALICE_MARK);
        assertThat(MailLogins.imap(postern.port("host"), NOWHERE, "nowhere-pw"))
                .as("an entry naming a closed port")
                .contains("UNAVAILABLE");
    }

    @Test
    void theUserAttributeIsTheNameDovecotSees() {
        assertThat(MailLogins.imapMailboxes(postern.port("user"), CAROL, DevBackends.BOB_PASSWORD))
                .startsWith("OK")
                .contains(BOB_MARK)
                .doesNotContain(ALICE_MARK);
    }

    @Test
    void theMasterAttributeLogsInAsTheMasterUserOnTheUsersBehalf() {
        assertThat(MailLogins.imapMailboxes(postern.port("master"), ERIN, ERIN_PASSWORD))
                .startsWith("OK")
                .contains(ALICE_MARK)
                .doesNotContain(BOB_MARK);
        assertThat(MailLogins.imap(postern.port("master"), ERIN, "not-erins-password"))
                .as("the directory still decides")
                .contains("AUTHENTICATIONFAILED");
    }

    @Test
    void thePoolAttributeOverridesTheListenersPool() {
        assertThat(MailLogins.imap(postern.port("pool"), DevBackends.BOB, DevBackends.BOB_PASSWORD))
                .isEqualTo("OK OK");
        assertThat(MailLogins.imap(postern.port("pool"), DAN, DevBackends.BOB_PASSWORD))
                .as("an entry routing to the dead pool, on a listener whose own pool is alive")
                .contains("UNAVAILABLE");
    }
}
