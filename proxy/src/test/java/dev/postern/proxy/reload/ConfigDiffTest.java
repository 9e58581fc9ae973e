package dev.postern.proxy.reload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ConfigException;
import dev.postern.config.ConfigLoader;
import dev.postern.config.ListenerConfig;
import dev.postern.config.PosternConfig;
import dev.postern.proxy.testing.DevBackends;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigDiffTest {
    private static final String BASE =
            """
            listeners:
              - {name: imaps, protocol: imap, bind: "127.0.0.1:1993", tls: implicit, pool: p}
              - {name: pop3, protocol: pop3, bind: "127.0.0.1:1110", tls: starttls, pool: p}
            pools:
              - {name: p, backends: [{address: "127.0.0.1:2143"}]}
            admin: {bind: "127.0.0.1:9025"}
            auth:
              throttle: {max-failures-per-user-address: 5}
            """;

    @TempDir
    static Path dir;

    private static PosternConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, dir, name -> null);
    }

    @Test
    void theSameFileChangesNothing() throws ConfigException {
        ConfigDiff diff = ConfigDiff.between(parse(BASE), parse(BASE));

        assertThat(diff.anyChange()).isFalse();
        assertThat(diff.needsRestart()).isEmpty();
        assertThat(diff.routingSeedsChanged()).isFalse();
    }

    @Test
    void theShippedDevConfigReadTwiceIsEqual() throws ConfigException {
        // every part of the model must compare by value, or each reload would report changes that are not there
        for (String file : List.of("config/dev.yaml")) {
            Path path = DevBackends.repoRoot().resolve(file);
            PosternConfig a = ConfigLoader.load(path, name -> "x");
            PosternConfig b = ConfigLoader.load(path, name -> "x");
            ConfigDiff diff = ConfigDiff.between(a, b);
            assertThat(diff.anyChange()).as(file + ": " + diff).isFalse();
            assertThat(diff.needsRestart()).as(file).isEmpty();
        }
    }

    @Test
    void listenersAddedRemovedAndChangedAreNamedWithWhatChanged() throws ConfigException {
        PosternConfig next = parse(
                """
                listeners:
                  - {name: imaps, protocol: imap, bind: "127.0.0.1:2993", tls: implicit, pool: p,
                     limits: {max-connections: 10}}
                  - {name: imap, protocol: imap, bind: "127.0.0.1:1143", tls: starttls, pool: p}
                pools:
                  - {name: p, backends: [{address: "127.0.0.1:2143"}]}
                admin: {bind: "127.0.0.1:9025"}
                auth:
                  throttle: {max-failures-per-user-address: 5}
                """);

        ConfigDiff diff = ConfigDiff.between(parse(BASE), next);

        assertThat(diff.added()).extracting(ListenerConfig::name).containsExactly("imap");
        assertThat(diff.removed()).containsExactly("pop3");
        assertThat(diff.changed()).containsOnlyKeys("imaps");
        assertThat(diff.changed().get("imaps")).containsExactly("bind", "limits");
        assertThat(diff.sections()).isEmpty();
        assertThat(diff.anyChange()).isTrue();
    }

    @Test
    void globalSectionsAreSwappedAndAGlobalLimitChangesEveryListener() throws ConfigException {
        PosternConfig next = parse(
                BASE.replace("max-failures-per-user-address: 5", "max-failures-per-user-address: 1")
                        + """
                limits: {line-length: 4096}
                timeouts: {pre-auth: 30s}
                tls:
                  protocols: [TLSv1.3]
                """);

        ConfigDiff diff = ConfigDiff.between(parse(BASE), next);

        assertThat(diff.sections()).containsExactly("throttle", "limits", "timeouts", "tls");
        assertThat(diff.changed().get("imaps")).containsExactly("timeouts", "limits");
        assertThat(diff.authChanged(parse(BASE), next)).isTrue();
        assertThat(diff.needsRestart()).isEmpty();
    }

    @Test
    void aChangedChainOfAListenerRebuildsAuthentication() throws Exception {
        Files.writeString(dir.resolve("u.txt"), "");
        String users = BASE.replace("auth:\n", "auth:\n  providers:\n    - {name: users, type: static, file: u.txt}\n");
        PosternConfig before = parse(users);
        PosternConfig after =
                parse(users.replace("pool: p}\n  - {name: pop3", "pool: p, auth: [users]}\n  - {name: pop3"));

        ConfigDiff diff = ConfigDiff.between(before, after);

        assertThat(diff.sections()).isEmpty();
        assertThat(diff.changed().get("imaps")).containsExactly("auth");
        assertThat(diff.authChanged(before, after)).isTrue();
        assertThat(ConfigDiff.between(before, before).authChanged(before, before))
                .isFalse();
    }

    @Test
    void anotherTransportNeedsARestart() throws ConfigException {
        ConfigDiff diff = ConfigDiff.between(parse(BASE), parse(BASE + "transport: io_uring\n"));

        assertThat(diff.needsRestart()).containsExactly("transport");
        assertThat(diff.anyChange()).isFalse();
    }

    @Test
    void otherHoldSettingsNeedARestart() throws ConfigException {
        PosternConfig next = parse(BASE.replace(
                "tls: starttls, pool: p}",
                "tls: starttls, pool: p}\nrouting: {hold-timeout: 10s, max-held-logins: 50}"));

        ConfigDiff diff = ConfigDiff.between(parse(BASE), next);

        assertThat(diff.needsRestart()).containsExactly("routing.hold-timeout, routing.max-held-logins");
    }

    @Test
    void whatCannotChangeLiveIsReportedAsNeedingARestart() throws ConfigException {
        PosternConfig next = parse(BASE.replace("127.0.0.1:9025", "127.0.0.1:9026")
                        .replace("tls: starttls, pool: p}", "tls: starttls, pool: p}\nrouting: {store: routes.json}")
                + "timeouts: {tls-handshake: 3s}\n");

        ConfigDiff diff = ConfigDiff.between(parse(BASE), next);

        assertThat(diff.needsRestart()).containsExactly("admin", "routing.store", "timeouts.tls-handshake");
    }

    @Test
    void changedRoutingSeedsAreNoticedNotApplied() throws ConfigException {
        PosternConfig next = parse(BASE.replace(
                "pools:\n  - {name: p, backends: [{address: \"127.0.0.1:2143\"}]}",
                "pools:\n  - {name: p, backends: [{address: \"127.0.0.1:2144\"}]}\nroutes:\n  users: {a@b.test: p}"));

        ConfigDiff diff = ConfigDiff.between(parse(BASE), next);

        assertThat(diff.routingSeedsChanged()).isTrue();
        assertThat(diff.anyChange()).isFalse();
    }
}
