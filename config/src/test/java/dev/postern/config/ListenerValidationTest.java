package dev.postern.config;

import static dev.postern.config.ConfigTexts.POOLS;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static dev.postern.config.ConfigTexts.withListener;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ListenerValidationTest {

    @Test
    void readsEveryListenerOption() throws ConfigException {
        ListenerConfig listener = parse(
                        withListener(
                                """
                        name: smtp
                        protocol: smtp
                        bind: "[::1]:1025"
                        tls: starttls
                        pool: postfix
                        allow-plaintext-auth: true
                        starttls-pipelining: discard
                        """))
                .listeners()
                .get(0);

        assertThat(listener.protocol()).isEqualTo(Protocol.SMTP);
        assertThat(listener.bind()).isEqualTo(new HostPort("::1", 1025));
        assertThat(listener.tls()).isEqualTo(TlsMode.STARTTLS);
        assertThat(listener.pool()).contains("postfix");
        assertThat(listener.allowPlaintextAuth()).isTrue();
        assertThat(listener.startTlsPipelining()).isEqualTo(ListenerConfig.StartTlsPipelining.DISCARD);
    }

    @Test
    void nameProtocolAndBindAreRequired() {
        assertThat(problems("listeners:\n  - tls: implicit\n"))
                .containsExactly(
                        "listeners[0].name: is required",
                        "listeners[0].protocol: is required",
                        "listeners[0].bind: is required");
    }

    @Test
    void emptyListenerEntryIsReported() {
        assertThat(problems("listeners:\n  -\n"))
                .containsExactly("listeners[0]: is empty (a listener needs name, protocol and bind)");
    }

    @Test
    void nameMustBeLowercaseWordCharacters() {
        assertThat(problems(withListener("name: IMAPS\nprotocol: imap\nbind: 127.0.0.1:1993")))
                .containsExactly("listeners[0].name: 'IMAPS' is not a valid name (lowercase letters, digits, '-' and"
                        + " '_', starting with a letter or digit)");
    }

    @Test
    void namesAreUnique() {
        assertThat(
                        problems(
                                """
                        listeners:
                          - {name: imaps, protocol: imap, bind: 127.0.0.1:1993}
                          - {name: imaps, protocol: imap, bind: 127.0.0.1:1994}
                        """))
                .containsExactly("listeners[1].name: 'imaps' is already used by listeners[0]");
    }

    @Test
    void protocolMustBeKnown() {
        assertThat(problems(withListener("name: imaps\nprotocol: imapx\nbind: 127.0.0.1:1993")))
                .containsExactly(
                        "listeners[0].protocol: 'imapx' is not one of imap, pop3, managesieve, smtp, lmtp, tcp");
    }

    @Test
    void bindMustBeHostAndPort() {
        assertThat(
                        problems(
                                """
                        listeners:
                          - {name: a, protocol: imap, bind: 127.0.0.1:70000}
                          - {name: b, protocol: imap, bind: 127.0.0.1}
                          - {name: c, protocol: imap, bind: "127.0.0.1:imap"}
                          - {name: d, protocol: imap, bind: "::1:143"}
                          - {name: e, protocol: imap, bind: 1993}
                        """))
                .containsExactly(
                        "listeners[0].bind: 70000 is not a port (1-65535)",
                        "listeners[1].bind: '127.0.0.1' is not host:port ([v6]:port for IPv6)",
                        "listeners[2].bind: 'imap' is not a port (1-65535)",
                        "listeners[3].bind: '::1:143' is not host:port ([v6]:port for IPv6)",
                        "listeners[4].bind: '1993' is not host:port ([v6]:port for IPv6)");
    }

    @Test
    void wildcardBindIsAccepted() throws ConfigException {
        assertThat(parse(withListener("name: imaps\nprotocol: imap\nbind: '*:993'"))
                        .listeners()
                        .get(0)
                        .bind()
                        .isWildcard())
                .isTrue();
    }

    @Test
    void twoListenersCannotBindTheSameAddress() {
        assertThat(
                        problems(
                                """
                        listeners:
                          - {name: imaps, protocol: imap, bind: 127.0.0.1:1993}
                          - {name: pop3s, protocol: pop3, bind: 127.0.0.1:1993}
                        """))
                .containsExactly("listeners[1].bind: 127.0.0.1:1993 is already used by listener 'imaps'");
    }

    @Test
    void wildcardBindOverlapsEveryAddressOnTheSamePort() {
        assertThat(
                        problems(
                                """
                        listeners:
                          - {name: a, protocol: imap, bind: "*:993"}
                          - {name: b, protocol: imap, bind: 10.0.0.1:993}
                          - {name: c, protocol: imap, bind: 0.0.0.0:995}
                          - {name: d, protocol: imap, bind: "[::1]:995"}
                          - {name: e, protocol: imap, bind: 10.0.0.1:994}
                        """))
                .containsExactly(
                        "listeners[1].bind: 10.0.0.1:993 overlaps *:993 of listener 'a'",
                        "listeners[3].bind: [::1]:995 overlaps 0.0.0.0:995 of listener 'c'");
    }

    @Test
    void tlsModeMustBeKnown() {
        assertThat(problems(withListener("name: imaps\nprotocol: imap\nbind: 127.0.0.1:1993\ntls: ssl")))
                .containsExactly("listeners[0].tls: 'ssl' is not one of implicit, starttls, none");
    }

    @Test
    void tcpListenerCannotUseStarttls() {
        assertThat(problems(
                        withListener("name: raw\nprotocol: tcp\nbind: 127.0.0.1:1143\ntls: starttls\npool: dovecot")))
                .containsExactly("listeners[0].tls: 'starttls' is invalid for a tcp listener (implicit or none): a tcp"
                        + " listener does not speak the protocol");
    }

    @Test
    void tcpListenerNeedsAPool() {
        assertThat(problems(withListener("name: raw\nprotocol: tcp\nbind: 127.0.0.1:1993\ntls: implicit")))
                .containsExactly("listeners[0].pool: is required for a tcp listener (it relays to a pool)");
    }

    @Test
    void poolMustExist() {
        assertThat(problems(withListener("name: imaps\nprotocol: imap\nbind: 127.0.0.1:1993\npool: dovcot")))
                .containsExactly("listeners[0].pool: no pool named 'dovcot' (pools: dovecot, postfix)");
    }

    @Test
    void poolReferenceWithoutAnyPoolsSaysSo() {
        assertThat(problems("listeners:\n  - {name: imaps, protocol: imap, bind: 127.0.0.1:1993, pool: dovecot}\n"))
                .containsExactly("listeners[0].pool: no pool named 'dovecot' (no pools are defined)");
    }

    @Test
    void booleansAreTrueOrFalse() {
        assertThat(problems(withListener(
                        "name: imap\nprotocol: imap\nbind: 127.0.0.1:1143\nallow-plaintext-auth: sometimes")))
                .containsExactly("listeners[0].allow-plaintext-auth: 'sometimes' is not true or false");
    }

    @Test
    void starttlsPipeliningIsCloseOrDiscard() {
        assertThat(problems(
                        withListener("name: imap\nprotocol: imap\nbind: 127.0.0.1:1143\nstarttls-pipelining: ignore")))
                .containsExactly("listeners[0].starttls-pipelining: 'ignore' is not one of close, discard");
    }

    @Test
    void backendNeedsAPortForTheProtocolOfEveryListenerUsingItsPool() {
        assertThat(
                        problems(
                                """
                        listeners:
                          - {name: imaps, protocol: imap, bind: 127.0.0.1:1993, pool: dovecot}
                          - {name: imap, protocol: imap, bind: 127.0.0.1:1143, pool: dovecot}
                          - {name: pop3s, protocol: pop3, bind: 127.0.0.1:1995, pool: dovecot}
                          - {name: raw, protocol: tcp, bind: 127.0.0.1:1994, pool: dovecot}
                        pools:
                          - name: dovecot
                            backends:
                              - {id: both, host: 127.0.0.1, ports: {imap: 2143, pop3: 2110}}
                              - {id: imap-only, host: 127.0.0.2, ports: {imap: 2143}}
                              - {id: general, address: 127.0.0.3:2143}
                        """))
                .containsExactly(
                        "pools[0].backends[0]: no port for protocol tcp (used by listener 'raw')",
                        "pools[0].backends[1]: no port for protocol pop3 (used by listener 'pop3s')",
                        "pools[0].backends[1]: no port for protocol tcp (used by listener 'raw')");
    }

    @Test
    void missingBackendPortNamesEveryListenerThatNeedsIt() {
        assertThat(
                        problems(
                                """
                        listeners:
                          - {name: imaps, protocol: imap, bind: 127.0.0.1:1993, pool: dovecot}
                          - {name: imap, protocol: imap, bind: 127.0.0.1:1143, pool: dovecot}
                        pools:
                          - name: dovecot
                            backends:
                              - {host: 127.0.0.1, ports: {pop3: 2110}}
                        """))
                .containsExactly("pools[0].backends[0]: no port for protocol imap (used by listeners 'imaps', 'imap')");
    }

    @Test
    void listenerOfAPoolWithAGeneralPortIsFine() throws ConfigException {
        PosternConfig config = parse(withListener("name: imaps\nprotocol: imap\nbind: 127.0.0.1:1993\npool: dovecot"));

        assertThat(config.pool("dovecot").orElseThrow().backends().get(0).portFor(Protocol.IMAP))
                .isEqualTo(2143);
    }

    @Test
    void listenerTimeoutsAndLimitsOverrideTheGlobalOnes() throws ConfigException {
        PosternConfig config = parse(
                """
                listeners:
                  - name: smtp
                    protocol: smtp
                    bind: 127.0.0.1:1025
                    timeouts: {pre-auth: 5m}
                    limits: {max-connections: 100}
                  - {name: imap, protocol: imap, bind: 127.0.0.1:1143}
                timeouts:
                  connect: 2s
                limits:
                  bad-commands: 5
                """
                        + POOLS);

        ListenerConfig smtp = config.listener("smtp").orElseThrow();
        assertThat(smtp.timeouts().preAuth()).isEqualTo(Duration.ofMinutes(5));
        assertThat(smtp.timeouts().connect()).isEqualTo(Duration.ofSeconds(2));
        assertThat(smtp.timeouts().idle()).isEqualTo(TimeoutsConfig.DEFAULTS.idle());
        assertThat(smtp.limits().maxConnections()).isEqualTo(100);
        assertThat(smtp.limits().badCommands()).isEqualTo(5);
        ListenerConfig imap = config.listener("imap").orElseThrow();
        assertThat(imap.timeouts()).isEqualTo(config.timeouts());
        assertThat(imap.limits()).isEqualTo(config.limits());
        assertThat(config.timeouts().preAuth()).isEqualTo(TimeoutsConfig.DEFAULTS.preAuth());
    }

    @Test
    void listenerOverridesAreValidatedWithTheirPath() {
        assertThat(
                        problems(
                                withListener(
                                        """
                        name: imaps
                        protocol: imap
                        bind: 127.0.0.1:1993
                        timeouts: {idle: 0s, conect: 1s}
                        limits: {line-length: 128KiB}
                        """)))
                .containsExactly(
                        "listeners[0].timeouts.conect: unknown key (did you mean 'connect'?)",
                        "listeners[0].timeouts.idle: 0s must be > 0",
                        "listeners[0].limits.line-length: 128KiB must be <= sasl-line-length (64KiB)");
    }
}
