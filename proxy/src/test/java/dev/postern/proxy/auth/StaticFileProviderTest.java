package dev.postern.proxy.auth;

import static dev.postern.proxy.auth.Requests.login;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.config.AuthProviderConfig;
import dev.postern.config.ConfigLoader;
import dev.postern.config.PosternConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The static provider with users files written by htpasswd and doveadm. */
class StaticFileProviderTest {
    @TempDir
    Path dir;

    private final ExecutorService hashes = Executors.newFixedThreadPool(2);
    private final ScheduledExecutorService checks = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        hashes.shutdownNow();
        checks.shutdownNow();
    }

    private static String htpasswd(String user, String password) {
        Processes.Result r = Processes.run(Duration.ofSeconds(30), "htpasswd", "-nbB", "-C", "4", user, password);
        assertThat(r.exitCode()).as("%s", r).isZero();
        return r.stdout().strip();
    }

    private static String doveadm(String scheme, String password) {
        Processes.Result r = Processes.run(Duration.ofSeconds(30), "doveadm", "pw", "-s", scheme, "-p", password);
        assertThat(r.exitCode()).as("%s", r).isZero();
        return r.stdout().strip();
    }

    private Path users(String text) throws Exception {
        return Files.writeString(dir.resolve("users.txt"), text);
    }

    private StaticFileProvider provider(Path file, boolean last) throws Exception {
        return new StaticFileProvider(
                new AuthProviderConfig.StaticFile("local", file, Duration.ofMillis(50)),
                Set.of("dovecot", "archive"),
                hashes,
                checks,
                last);
    }

    private static Optional<AuthResult> ask(StaticFileProvider p, AuthRequest r) throws Exception {
        return p.authenticate(r).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    void decidesItsUsersAndLeavesOthersToTheNextProvider() throws Exception {
        StaticFileProvider p = provider(
                users("# service accounts\n\n" + htpasswd("alice@example.test", "alice-pw") + "\n"
                        + "bob@example.test:" + doveadm("SHA512-CRYPT", "bob-pw") + ":pool=archive\n"
                        + "carol@example.test:" + doveadm("BLF-CRYPT", "carol-pw")
                        + ":host=mail7.internal port=10143\n"),
                false);

        assertThat(ask(p, login("Alice@Example.test", "alice-pw")))
                .contains(new AuthResult.Accepted("alice@example.test", Optional.empty(), Optional.empty()));
        assertThat(ask(p, login("alice@example.test", "wrong"))).hasValueSatisfying(r -> assertThat(r)
                .isInstanceOfSatisfying(AuthResult.Rejected.class, x -> assertThat(x.temporary())
                        .isFalse()));
        assertThat(ask(p, login("bob@example.test", "bob-pw")))
                .contains(new AuthResult.Accepted(
                        "bob@example.test",
                        Optional.of(new AuthResult.RouteHint("archive", null, 0)),
                        Optional.empty()));
        assertThat(ask(p, login("carol@example.test", "carol-pw")))
                .contains(new AuthResult.Accepted(
                        "carol@example.test",
                        Optional.of(new AuthResult.RouteHint(null, "mail7.internal", 10143)),
                        Optional.empty()));
        assertThat(ask(p, login("dave@example.test", "x")))
                .as("not in the file")
                .isEmpty();
        p.close();
    }

    @Test
    void aBrokenFileAtStartIsRefusedWithEveryProblem() throws Exception {
        Path file = users("alice:" + doveadm("ARGON2ID", "pw") + "\n"
                + "alice:" + doveadm("SHA512-CRYPT", "pw") + "\n"
                + "bob:{PLAIN}bob-pw\n"
                + "carol:$2y$05$nope\n"
                + "dave:" + doveadm("SHA512-CRYPT", "pw") + ":pool=nowhere\n"
                + "no colon here\n");

        assertThatThrownBy(() -> provider(file, false))
                .isInstanceOf(StaticFileProvider.LoadException.class)
                .hasMessageContaining("line 2: alice is already on line 1")
                .hasMessageContaining("line 3 (bob): {PLAIN} stores the password itself")
                .hasMessageContaining("line 4 (carol): a bcrypt hash has 60 characters")
                .hasMessageContaining("line 5 (dave): no pool named 'nowhere' (pools: archive, dovecot)")
                .hasMessageContaining("line 6: not user:hash")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("bob-pw"));
    }

    @Test
    void aChangedFileIsReloadedAndABrokenOneKeepsTheLastGood() throws Exception {
        Path file = users(htpasswd("alice", "old-pw") + "\n");
        StaticFileProvider p = provider(file, false);
        assertThat(ask(p, login("alice", "old-pw")).orElseThrow()).isInstanceOf(AuthResult.Accepted.class);

        Files.writeString(file, htpasswd("alice", "new-pw") + "\n" + htpasswd("bob", "bob-pw") + "\n");
        Await.until("the file is reloaded", Duration.ofSeconds(10), () -> p.size() == 2);
        assertThat(ask(p, login("alice", "new-pw")).orElseThrow()).isInstanceOf(AuthResult.Accepted.class);
        assertThat(ask(p, login("alice", "old-pw")).orElseThrow()).isInstanceOf(AuthResult.Rejected.class);

        Files.writeString(file, "alice:garbage\nbob:garbage too\ncarol:x\n");
        assertThat(p.checkNow()).isFalse();
        assertThat(p.size()).isEqualTo(2);
        assertThat(ask(p, login("bob", "bob-pw")).orElseThrow())
                .as("the last good file still answers")
                .isInstanceOf(AuthResult.Accepted.class);
        p.close();
    }

    @Test
    void attheEndOfAChainUnknownUsersCostAVerificationToo() throws Exception {
        // argon2 with doveadm's defaults (64 MiB, t=3) is slow enough to tell apart from a map lookup
        StaticFileProvider p = provider(users("alice:" + doveadm("ARGON2ID", "pw") + "\n"), true);
        ask(p, login("alice", "warm-up"));

        long known = time(() -> ask(p, login("alice", "wrong")));
        long unknown = time(() -> ask(p, login("nobody", "wrong")));

        assertThat(ask(p, login("nobody", "wrong"))).isEmpty();
        assertThat(unknown).as("unknown %d ns vs known %d ns", unknown, known).isGreaterThan(known / 3);
        p.close();
    }

    private interface Call {
        void run() throws Exception;
    }

    private static long time(Call c) throws Exception {
        long t = System.nanoTime();
        c.run();
        return System.nanoTime() - t;
    }

    @Test
    void aSetupFromConfigurationGivesEachListenerItsChain() throws Exception {
        users(htpasswd("svc@example.test", "svc-pw") + "\n");
        PosternConfig config = ConfigLoader.parse(
                """
                auth:
                  providers:
                    - {name: local, type: static, file: users.txt}
                listeners:
                  - {name: strict, protocol: imap, bind: "127.0.0.1:1", pool: dovecot, auth: [local]}
                  - {name: mixed, protocol: imap, bind: "127.0.0.1:2", pool: dovecot, auth: [local, backend]}
                  - {name: plain, protocol: imap, bind: "127.0.0.1:3", pool: dovecot}
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:2143"}]}
                """,
                dir);
        Transport transport = Transport.create(1, true);
        try (AuthSetup setup =
                AuthSetup.create(config.auth(), config.listeners(), Set.of("dovecot"), transport, Metrics.NOOP)) {
            Authenticator strict = setup.authenticator(config.listener("strict").orElseThrow());
            Authenticator mixed = setup.authenticator(config.listener("mixed").orElseThrow());

            assertThat(strict.authenticate(login("svc@example.test", "svc-pw"))
                            .toCompletableFuture()
                            .get())
                    .isInstanceOf(AuthResult.Accepted.class);
            assertThat(strict.authenticate(login("alice@example.test", "x"))
                            .toCompletableFuture()
                            .get())
                    .isInstanceOf(AuthResult.Rejected.class);
            assertThat(mixed.authenticate(login("alice@example.test", "x"))
                            .toCompletableFuture()
                            .get())
                    .isInstanceOf(AuthResult.PassThrough.class);
            assertThat(setup.authenticator(config.listener("plain").orElseThrow()))
                    .isSameAs(Authenticator.BACKEND);
            strict.authenticate(login("svc@example.test", "svc-pw"))
                    .toCompletableFuture()
                    .get();
            assertThat(setup.stats().cache().hits()).isEqualTo(1);
            assertThat(setup.invalidate("SVC@example.test")).isEqualTo(1);
            assertThat(setup.throttle())
                    .as("no throttle section: throttled with the defaults")
                    .isNotNull();
        } finally {
            transport.close();
        }
    }
}
