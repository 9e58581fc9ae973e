package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.admin.cli.AdminCli;
import dev.postern.config.Backend;
import dev.postern.config.ConfigProblem;
import dev.postern.config.Protocol;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code postern admin ...} against a real admin server. */
class AdminCliTest {
    private final AdminFixture admin = AdminFixture.start();
    private final Map<String, String> env =
            new java.util.HashMap<>(Map.of("POSTERN_ADMIN_TOKEN", AdminFixture.OPS_TOKEN));
    private String out;
    private String err;

    @AfterEach
    void stop() {
        admin.close();
    }

    private int cli(String... args) {
        List<String> all = new ArrayList<>(
                List.of("--url", "http://127.0.0.1:" + admin.server.address().getPort()));
        all.addAll(List.of(args));
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = AdminCli.run(
                all.toArray(String[]::new),
                new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8),
                env::get);
        out = o.toString(StandardCharsets.UTF_8);
        err = e.toString(StandardCharsets.UTF_8);
        return code;
    }

    private Backend backend(String pool, String id) {
        return admin.store.current().pool(pool).orElseThrow().backend(id).orElseThrow();
    }

    @Test
    void poolsIsATableWithLiveState() {
        admin.proxy.statuses.put("dovecot/d1", new BackendStatus(true, 12));
        admin.proxy.statuses.put("dovecot/d2", new BackendStatus(false, 0));

        assertThat(cli("pools")).as(err).isZero();

        assertThat(out.lines().toList())
                .containsExactly(
                        "POOL     BALANCER         BACKEND  ADDRESS       WEIGHT  STATE   HEALTHY  SESSIONS",
                        "dovecot  consistent-hash  d1       10.0.0.1:143  1       active  yes      12",
                        "dovecot  consistent-hash  d2       10.0.0.2:143  1       active  NO       0",
                        "postfix  round-robin      p1       10.0.0.3:25   1       active  ?        ?");
    }

    @Test
    void aBackendThatIsOutSaysWhy() {
        admin.proxy.statuses.put(
                "dovecot/d2",
                new BackendStatus(
                        false,
                        0,
                        Optional.of("login refused: NO [AUTHENTICATIONFAILED] Authentication failed."),
                        Optional.empty()));

        assertThat(cli("pool", "dovecot")).as(err).isZero();

        assertThat(out).contains("NO (login refused: NO [AUTHENTICATIONFAILED] Authentication failed.)");
    }

    @Test
    void poolShowsOnePoolOrSaysItIsNotThere() {
        assertThat(cli("pool", "postfix")).isZero();
        assertThat(out).contains("postfix  round-robin  p1");

        assertThat(cli("pool", "nope")).isEqualTo(1);
        assertThat(err.strip()).isEqualTo("postern admin: HTTP 404 Not Found: no pool named 'nope'");
    }

    @Test
    void drainsABackendWithADeadline() {
        assertThat(cli("drain", "dovecot", "d1", "--deadline", "10m")).as(err).isZero();

        assertThat(out.strip())
                .isEqualTo("dovecot/d1: draining (sessions still open at 2026-06-01T12:10:00Z will be closed)"
                        + " [revision 2]");
        assertThat(backend("dovecot", "d1").state()).isEqualTo(Backend.State.DRAINING);
        assertThat(admin.proxy.calls).contains("drain dovecot/d1 2026-06-01T12:10:00Z");
    }

    @Test
    void disablesAndEnables() {
        assertThat(cli("disable", "postfix", "p1")).isZero();
        assertThat(backend("postfix", "p1").state()).isEqualTo(Backend.State.DISABLED);
        assertThat(cli("enable", "postfix", "p1")).isZero();
        assertThat(out.strip()).isEqualTo("postfix/p1: active [revision 3]");
    }

    @Test
    void movesADomainAndAUser() {
        assertThat(cli("route-domain", "example.com", "postfix")).isZero();
        assertThat(out.strip()).isEqualTo("domain example.com -> postfix");
        assertThat(cli("route-user", "Carol@Example.org", "postfix")).isZero();
        assertThat(out.strip()).isEqualTo("user carol@example.org -> postfix (new route)");
        assertThat(admin.store
                        .current()
                        .routes()
                        .match("x@example.com")
                        .orElseThrow()
                        .pool())
                .isEqualTo("postfix");

        assertThat(cli("routes")).isZero();
        assertThat(out.lines().toList())
                .containsExactly(
                        "KIND     MATCH              POOL",
                        "user     carol@example.org  postfix",
                        "user     vip@example.com    dovecot",
                        "domain   example.com        postfix",
                        "default  *                  dovecot");

        assertThat(cli("unroute-user", "carol@example.org")).isZero();
        assertThat(out.strip()).isEqualTo("deleted user carol@example.org [revision 4]");
        assertThat(cli("unroute-domain", "example.com")).isZero();
        assertThat(admin.store.current().routes().domains()).isEmpty();
    }

    @Test
    void aRouteToAMissingPoolExplainsWhy() {
        assertThat(cli("route-domain", "example.com", "gone")).isEqualTo(1);

        assertThat(err.strip())
                .isEqualTo("postern admin: HTTP 400 The request is invalid: no pool named 'gone' (pools: dovecot,"
                        + " postfix)");
    }

    @Test
    void explainsAUser() {
        admin.proxy.explanation = new Explanation(
                "bob@example.com",
                Optional.of("domain"),
                Optional.of("example.com"),
                Optional.of("dovecot"),
                List.of(
                        new Explanation.Candidate("d2", true, "active, healthy, 3 sessions"),
                        new Explanation.Candidate("d1", false, "draining")));

        assertThat(cli("explain", "bob@example.com", "--protocol", "pop3")).isZero();

        assertThat(out.lines().toList())
                .containsExactly(
                        "bob@example.com: pool dovecot (by domain example.com)",
                        "ORDER  BACKEND  ELIGIBLE  WHY",
                        "1      d2       yes       active, healthy, 3 sessions",
                        "2      d1       no        draining");
        assertThat(admin.proxy.calls).contains("explain bob@example.com pop3");
    }

    @Test
    void listsAndKillsSessions() {
        admin.proxy.sessions.add(FakeProxyControl.session("s1", Protocol.IMAP, "alice@example.com", "dovecot", "d1"));
        admin.proxy.sessions.add(FakeProxyControl.session("s2", Protocol.POP3, "bob@example.com", "dovecot", "d2"));

        assertThat(cli("sessions", "--backend", "d1")).isZero();
        assertThat(out).contains("s1  imaps     imap   203.0.113.7:51514  alice@example.com  dovecot/d1  TLSv1.3");
        assertThat(out).doesNotContain("s2").endsWith("1 session(s)\n");

        assertThat(cli("kill-user", "alice@example.com")).isZero();
        assertThat(out.strip()).isEqualTo("closed 1 session(s) of alice@example.com");
        assertThat(cli("kill", "s2")).isZero();
        assertThat(admin.proxy.sessions).isEmpty();
    }

    @Test
    void flushesCachedLogins() {
        assertThat(cli("flush-auth", "bob@example.com")).isZero();
        assertThat(cli("flush-auth")).isZero();

        assertThat(admin.proxy.calls).containsSubsequence("invalidateAuth bob@example.com", "invalidateAllAuth");
    }

    @Test
    void reloadsCertificates() {
        assertThat(cli("reload-tls")).isZero();

        assertThat(out).startsWith("reloaded; new handshakes get:\n").contains("example-com  CN=mail.example.com");
        admin.proxy.reloadResult = new TlsReloadResult.Failed("/etc/postern/key.pem: wrong key-password");
        assertThat(cli("reload-tls")).isEqualTo(1);
        assertThat(err).contains("HTTP 422").contains("/etc/postern/key.pem: wrong key-password");
    }

    @Test
    void reloadsTheConfigurationAndPrintsEveryProblemOfABrokenFile() {
        admin.proxy.configReload = new ConfigReloadResult.Applied(
                "/etc/postern/postern.yaml",
                List.of("imap-new"),
                List.of(),
                List.of(),
                List.of("throttle"),
                List.of("admin"),
                false);
        assertThat(cli("reload")).isZero();
        assertThat(out)
                .startsWith("reloaded /etc/postern/postern.yaml; new sessions get the new settings:\n")
                .contains("listener added:   imap-new")
                .contains("changed: throttle")
                .contains("needs a restart (left as it was): admin");

        admin.proxy.configReload = new ConfigReloadResult.Rejected(
                "/etc/postern/postern.yaml",
                List.of(
                        new ConfigProblem("listeners[0].bind", "70000 is not a port (1-65535)"),
                        new ConfigProblem("auth.throttle.window", "'soon' is not a duration")));
        assertThat(cli("reload")).isEqualTo(1);
        assertThat(err)
                .contains("HTTP 422")
                .contains("listeners[0].bind: 70000 is not a port (1-65535)")
                .contains("auth.throttle.window: 'soon' is not a duration");
    }

    @Test
    void inAClusterTheSessionsShowTheirNodeAndTheCommandsEachNodesPart() {
        FakeClusterControl cluster = new FakeClusterControl("n1", admin.proxy);
        admin.proxy.sessions.add(FakeProxyControl.session("n1-a", Protocol.IMAP, "alice@example.com", "dovecot", "d1")
                .withNode("n1"));
        cluster.node("n2", FakeProxyControl.session("n2-b", Protocol.IMAP, "alice@example.com", "dovecot", "d2"));
        cluster.node("n3");

        assertThat(cli("sessions", "--scope", "cluster")).as(err).isZero();
        assertThat(out).contains("ID    NODE  LISTENER").contains("n2-b  n2    imaps");
        assertThat(out).endsWith("2 session(s) (n1: 1, n2: 1, n3: 0)\n");

        assertThat(cli("nodes")).as(err).isZero();
        assertThat(out.lines().toList()).first().asString().startsWith("NODE  SELF  STARTED");
        assertThat(out).contains("n1    yes   2026-06-01T11:00:00Z  400 ms ago   1");

        cluster.silent.add("n3");
        assertThat(cli("kill-user", "alice@example.com"))
                .as("not every node answered")
                .isEqualTo(3);
        assertThat(out.lines().toList())
                .containsExactly(
                        "closed 2 session(s) of alice@example.com (n1: 1, n2: 1)", "no answer within 1000 ms from: n3");

        cluster.down = true;
        assertThat(cli("flush-auth", "bob@example.com")).isEqualTo(3);
        assertThat(out.lines().toList())
                .containsExactly(
                        "forgot the cached logins of bob@example.com (n1: 2 cached)",
                        "cluster unreachable: only node n1 acted (redis 127.0.0.1:6379 cannot be reached)");

        cluster.down = false;
        cluster.silent.clear();
        assertThat(cli("reload-tls")).as(err).isZero();
        assertThat(out)
                .startsWith("reloaded (n1, n2, n3); new handshakes get:\nNODE  NAME")
                .contains("n3    example-com");
        assertThat(cli("flush-auth", "--scope", "local")).isZero();
        assertThat(out.strip()).isEqualTo("forgot every cached login");
        assertThat(admin.proxy.calls).contains("invalidateAllAuth");
    }

    @Test
    void jsonPrintsTheApisDocument() {
        assertThat(cli("--json", "revision")).isZero();

        assertThat(out.strip()).isEqualTo("{\n  \"revision\" : 1\n}");
    }

    @Test
    void theTokenComesFromAFileOrTheCommandLine(@TempDir Path dir) throws Exception {
        env.clear();
        assertThat(cli("revision")).isEqualTo(1);
        assertThat(err).contains("HTTP 401").contains("give --token or set POSTERN_ADMIN_TOKEN");

        Path file = dir.resolve("token");
        Files.writeString(file, AdminFixture.VIEWER_TOKEN + "\n");
        assertThat(cli("--token-file", file.toString(), "revision")).isZero();
        assertThat(cli("--token", AdminFixture.VIEWER_TOKEN, "disable", "postfix", "p1"))
                .isEqualTo(1);
        assertThat(err.strip()).isEqualTo("postern admin: HTTP 403 Forbidden: token 'viewer' is read-only");
    }

    @Test
    void usageErrorsExitWith2() {
        assertThat(cli()).isEqualTo(2);
        assertThat(cli("drain", "dovecot")).isEqualTo(2);
        assertThat(err).startsWith("postern admin: drain takes 2 argument(s), not 1\nusage:");
        assertThat(cli("frobnicate")).isEqualTo(2);
        assertThat(cli("pools", "--colour")).isEqualTo(2);
        assertThat(cli("disable", "postfix", "p1", "--deadline", "1m")).isEqualTo(2);
        assertThat(cli("--help")).isZero();
        assertThat(out).contains("route-domain DOMAIN POOL");
    }

    @Test
    void anUnreachableApiIsOneLine() {
        int port = admin.server.address().getPort();
        admin.server.close();

        assertThat(cli("--url", "http://127.0.0.1:" + port, "pools")).isEqualTo(1);
        assertThat(err.strip())
                .isEqualTo("postern admin: cannot reach http://127.0.0.1:" + port
                        + " (connection refused; is admin.bind set, and is Postern running?)");
    }

    @Test
    void movesAUserToABackendInOneCommand() {
        assertThat(cli("move-user", "carol@example.com", "--to", "dovecot/d2"))
                .as(err)
                .isZero();

        assertThat(out.strip())
                .matches("moved carol@example.com from \\(no route\\) to dovecot/d2 in [0-9.]+ ms: 0 session\\(s\\)"
                        + " ended, 0 held login\\(s\\) released \\[revision 2]");
        assertThat(admin.store.current().routes().pin("carol@example.com")).contains("d2");
        assertThat(admin.proxy.calls).containsSubsequence("hold carol@example.com 30s", "release carol@example.com 2");
    }

    @Test
    void moveUserNeedsWhereTo() {
        assertThat(cli("move-user", "carol@example.com")).isEqualTo(2);
        assertThat(err).contains("move-user needs --to POOL or --to POOL/BACKEND");

        assertThat(cli("move-user", "carol@example.com", "--to", "dovecot/d9")).isEqualTo(1);
        assertThat(err).contains("no backend 'd9' in pool 'dovecot'");
    }

    @Test
    void holdsListsAndReleasesAUser() {
        assertThat(cli("hold", "dave@example.com", "--timeout", "10m")).as(err).isZero();
        assertThat(out.strip())
                .isEqualTo("holding new logins of dave@example.com until 2026-06-01T12:10:00Z (or a release)");

        assertThat(cli("holds")).isZero();
        assertThat(out.lines().toList())
                .containsExactly(
                        "USER              UNTIL                 REMAINING  WAITING  ORIGIN",
                        "dave@example.com  2026-06-01T12:10:00Z  600s       0        local",
                        "a held login waits at most 30s");

        assertThat(cli("release", "dave@example.com")).isZero();
        assertThat(out.strip()).isEqualTo("released dave@example.com");
        assertThat(cli("release", "dave@example.com")).isEqualTo(1);
        assertThat(err).contains("'dave@example.com' is not held");
    }
}
