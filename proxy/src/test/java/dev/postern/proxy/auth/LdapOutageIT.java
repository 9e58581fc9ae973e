package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Protocol;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.MailLogins;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.TestLdap;
import dev.postern.testkit.Await;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Directories that go away, seen by real clients: with two servers configured the second takes the logins while the
 * first is down (from the start or stopped mid-run); a directory stopped mid-run gives POP3 {@code -ERR [SYS/TEMP]}
 * and SMTP submission {@code 454 4.7.0} to a login it never saw, and the cache's stale-if-error answers a user it
 * knew (IMAP is LdapAuthIT's). The cache keeps answers for a millisecond, so every login asks the directory.
 */
class LdapOutageIT {
    private static final String PEOPLE = TestLdap.person(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)
            + TestLdap.person(DevBackends.BOB, DevBackends.BOB_PASSWORD);
    private static final String CACHE =
            "  cache: {ttl: 1ms, negative-ttl: 1ms, refresh-after: 0, stale-if-error: 1h}\n";

    @TempDir
    static Path dir;

    private static String provider(String... servers) {
        return ("    - {name: directory, type: ldap, servers: [%s], timeout: 2s, connect-timeout: 1s,"
                        + " search: {base: \"%s\", filter: \"(mail=%%u)\", bind-dn: \"%s\", bind-password: %s}}\n")
                .formatted(
                        "\"" + String.join("\", \"", servers) + "\"",
                        TestLdap.PEOPLE,
                        TestLdap.SERVICE_DN,
                        TestLdap.SERVICE_PASSWORD);
    }

    private static String listeners() {
        return """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: imap,
                     auth: [directory], throttle: off}
                  - {name: pop3, protocol: pop3, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: pop3,
                     auth: [directory], throttle: off}
                  - {name: submission, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true,
                     pool: submission, auth: [directory], throttle: off}
                pools:
                  - {name: imap, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: pop3, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: submission, backends: [{address: "127.0.0.1:%d"}]}
                """
                .formatted(
                        FreePorts.next(),
                        FreePorts.next(),
                        FreePorts.next(),
                        DevBackends.IMAP,
                        DevBackends.POP3,
                        DevBackends.SUBMISSION);
    }

    private static PosternHarness postern(String... servers) {
        DevBackends.ensureStarted();
        PosternHarness p = PosternHarness.start("auth:\n  providers:\n" + provider(servers) + CACHE + listeners(), dir);
        // SMTP offers AUTH once it learned the submission pool's EHLO keywords
        Await.until("the SMTP probe learned the submission pool's keywords", Duration.ofSeconds(20), () -> p.postern()
                .services()
                .capabilities()
                .get("submission", Protocol.SMTP)
                .isPresent());
        return p;
    }

    @Test
    void withTheFirstServerDownFromTheStartTheSecondTakesTheLogins() {
        try (TestLdap second = TestLdap.start(PEOPLE);
                PosternHarness p = postern("ldap://127.0.0.1:" + FreePorts.closed(), second.ldapUrl())) {
            assertThat(MailLogins.imap(p.port("imap"), DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                    .isEqualTo("OK OK");
            assertThat(MailLogins.pop3(p.port("pop3"), DevBackends.BOB, DevBackends.BOB_PASSWORD))
                    .isEqualTo("OK True");
            assertThat(MailLogins.imap(p.port("imap"), DevBackends.ALICE, "not-her-password"))
                    .as("the second server's no is a no")
                    .contains("AUTHENTICATIONFAILED");
        }
    }

    @Test
    void whenTheFirstServerStopsMidRunTheSecondTakesOverAndWhenBothAreDownItIsTemporary() {
        try (TestLdap first = TestLdap.start(PEOPLE);
                TestLdap second = TestLdap.start(PEOPLE);
                PosternHarness p = postern(first.ldapUrl(), second.ldapUrl())) {
            assertThat(MailLogins.imap(p.port("imap"), DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                    .isEqualTo("OK OK");
            first.stop();

            assertThat(MailLogins.imap(p.port("imap"), DevBackends.BOB, DevBackends.BOB_PASSWORD))
                    .as("a login never seen before, through the second server")
                    .isEqualTo("OK OK");
            assertThat(p.postern().auth().stats().cache().staleServed())
                    .as("not from the cache")
                    .isZero();

            second.stop();
            assertThat(MailLogins.pop3(p.port("pop3"), "carol@example.test", "carol-pw"))
                    .as("both down: try later")
                    .contains("[SYS/TEMP]");
        }
    }

    @Test
    void aDirectoryStoppedMidRunIsTemporaryForPop3AndSubmissionAndTheCacheAnswersKnownUsers() {
        try (TestLdap dying = TestLdap.start(PEOPLE);
                PosternHarness p = postern(dying.ldapUrl())) {
            assertThat(MailLogins.pop3(p.port("pop3"), DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                    .isEqualTo("OK True");
            assertThat(MailLogins.submission(p.port("submission"), DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                    .isEqualTo("OK");
            dying.stop();

            assertThat(MailLogins.pop3(p.port("pop3"), DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                    .as("POP3: a known user within stale-if-error")
                    .isEqualTo("OK True");
            assertThat(MailLogins.submission(p.port("submission"), DevBackends.ALICE, DevBackends.ALICE_PASSWORD))
                    .as("submission: a known user within stale-if-error")
                    .isEqualTo("OK");
            assertThat(p.postern().auth().stats().cache().staleServed()).isGreaterThanOrEqualTo(2);

            assertThat(MailLogins.pop3(p.port("pop3"), DevBackends.BOB, DevBackends.BOB_PASSWORD))
                    .as("POP3: a login never seen before gets try-later, never 'wrong password'")
                    .startsWith("ERR -ERR [SYS/TEMP]");
            assertThat(MailLogins.submission(p.port("submission"), DevBackends.BOB, DevBackends.BOB_PASSWORD))
                    .as("submission: likewise")
                    .startsWith("ERR 454 4.7.0");

            dying.restart();
            assertThat(MailLogins.pop3(p.port("pop3"), DevBackends.BOB, DevBackends.BOB_PASSWORD))
                    .as("back with the directory")
                    .isEqualTo("OK True");
            assertThat(MailLogins.submission(p.port("submission"), DevBackends.BOB, DevBackends.BOB_PASSWORD))
                    .isEqualTo("OK");
        }
    }
}
