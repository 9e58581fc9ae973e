package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.MailLogins;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.TestLdap;
import dev.postern.testkit.TestCertificates;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS to the directory, end to end: two private OpenLDAPs with certificates of a test CA, one named {@code localhost}
 * only, one {@code ldap.example.test} and {@code 127.0.0.1}; Postern asks them over StartTLS and LDAPS, and imaplib
 * logs in through Postern to Dovecot. A certificate Postern must not trust (another CA, or not for the name in the
 * configured URL) is a temporary failure for the client, never "wrong password". The loopback cases matter: the
 * SDK's own host-name check accepts any certificate from a loopback address, so {@code 127.0.0.1} with a certificate
 * for {@code localhost} only is the case that shows the check is Postern's.
 */
class LdapTlsIT {
    private static final String PEOPLE =
            TestLdap.person(DevBackends.ALICE, DevBackends.ALICE_PASSWORD, "posternPool: dovecot");

    @TempDir
    static Path dir;

    static TestLdap named;
    static TestLdap addressed;
    static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        TestCertificates ca = TestCertificates.newAuthority();
        ca.writeCaCertificate(dir.resolve("ca.pem"));
        TestCertificates.newAuthority().writeCaCertificate(dir.resolve("other-ca.pem"));
        named = directory(ca, "named", "localhost");
        addressed = directory(ca, "addressed", "ldap.example.test", "127.0.0.1");
        StringBuilder yaml = new StringBuilder("auth:\n  providers:\n");
        StringBuilder listeners = new StringBuilder("listeners:\n");
        String[][] providers = {
            {"starttls", named.ldapUrl("localhost"), "starttls: true, ca: ca.pem"},
            {"starttls-other-ca", named.ldapUrl("localhost"), "starttls: true, ca: other-ca.pem"},
            {"starttls-address-not-in-cert", named.ldapUrl("127.0.0.1"), "starttls: true, ca: ca.pem"},
            {"ldaps", named.ldapsUrl("localhost"), "ca: ca.pem"},
            {"ldaps-address-not-in-cert", named.ldapsUrl("127.0.0.1"), "ca: ca.pem"},
            {"ldaps-name-not-in-cert", addressed.ldapsUrl("localhost"), "ca: ca.pem"},
            {"ldaps-address-in-cert", addressed.ldapsUrl("127.0.0.1"), "ca: ca.pem"},
            {"starttls-no-verify", named.ldapUrl("127.0.0.1"), "starttls: true, tls-verify: false"},
            {"ldaps-no-verify", addressed.ldapsUrl("localhost"), "tls-verify: false"},
        };
        for (String[] p : providers) {
            yaml.append(("    - {name: %s, type: ldap, servers: [\"%s\"], %s, timeout: 2s, connect-timeout: 2s,"
                            + " search: {base: \"%s\", filter: \"(mail=%%u)\", bind-dn: \"%s\", bind-password: %s},"
                            + " attributes: {pool: posternPool}}\n")
                    .formatted(p[0], p[1], p[2], TestLdap.PEOPLE, TestLdap.SERVICE_DN, TestLdap.SERVICE_PASSWORD));
            listeners.append(("  - {name: %s, protocol: imap, bind: \"127.0.0.1:%d\", allow-plaintext-auth: true,"
                            + " pool: dead, auth: [%s], throttle: off}\n")
                    .formatted(p[0], FreePorts.next(), p[0]));
        }
        postern = PosternHarness.start(
                yaml.append(listeners)
                        .append(
                                """
                                pools:
                                  - {name: dead, backends: [{address: "127.0.0.1:%d"}]}
                                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                                """
                                        .formatted(FreePorts.closed(), DevBackends.IMAP))
                        .toString(),
                dir);
    }

    private static TestLdap directory(TestCertificates ca, String name, String commonName, String... names) {
        TestCertificates.Leaf leaf = ca.issue(
                TestCertificates.KeyType.RSA_2048, commonName, names.length == 0 ? new String[] {commonName} : names);
        Path cert = leaf.writeChain(dir.resolve(name + "-cert.pem"));
        Path key = leaf.writeKey(dir.resolve(name + "-key.pem"), TestCertificates.KeyFormat.PKCS8, null);
        return TestLdap.start(PEOPLE, cert, key);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
        if (named != null) {
            named.close();
        }
        if (addressed != null) {
            addressed.close();
        }
    }

    private static String login(String listener) {
        return MailLogins.imap(postern.port(listener), DevBackends.ALICE, DevBackends.ALICE_PASSWORD);
    }

    private static void refusedAsTemporary(String listener) {
        assertThat(login(listener)).as(listener).contains("UNAVAILABLE").doesNotContain("AUTHENTICATIONFAILED");
    }

    @Test
    void startTlsWithTheRightCaAndNameLogsIn() {
        assertThat(login("starttls")).isEqualTo("OK OK");
    }

    @Test
    void startTlsWithAnotherCaIsATemporaryFailureNeverAWrongPassword() {
        refusedAsTemporary("starttls-other-ca");
    }

    @Test
    void ldapsWithTheRightCaAndNameLogsIn() {
        assertThat(login("ldaps")).isEqualTo("OK OK");
    }

    @Test
    void aCertificateForAnotherNameIsRefusedOnStartTlsAndLdapsEvenOnTheLoopback() {
        refusedAsTemporary("starttls-address-not-in-cert");
        refusedAsTemporary("ldaps-address-not-in-cert");
        refusedAsTemporary("ldaps-name-not-in-cert");
    }

    @Test
    void anIpAddressInTheCertificateMatchesThatAddress() {
        assertThat(login("ldaps-address-in-cert")).isEqualTo("OK OK");
    }

    @Test
    void tlsVerifyFalseTrustsAnyCertificateForAnyName() {
        assertThat(login("starttls-no-verify")).isEqualTo("OK OK");
        assertThat(login("ldaps-no-verify")).isEqualTo("OK OK");
    }
}
