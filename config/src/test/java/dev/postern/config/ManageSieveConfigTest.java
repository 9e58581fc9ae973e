package dev.postern.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A {@code managesieve} listener and a backend port for it, as the README's example writes them. */
class ManageSieveConfigTest {
    @Test
    void theReadmeExampleParsesWithThePerProtocolPortAndTheAlpnId() throws ConfigException {
        PosternConfig config = ConfigLoader.parse(
                """
                listeners:
                  - {name: sieve, protocol: managesieve, bind: "*:4190", tls: starttls, pool: dovecot}
                pools:
                  - name: dovecot
                    backends:
                      - {host: 10.0.2.11, ports: {imap: 143, managesieve: 4190}, identity: xclient}
                """,
                Path.of("."));
        ListenerConfig listener = config.listeners().get(0);
        assertThat(listener.protocol()).isEqualTo(Protocol.MANAGESIEVE);
        assertThat(listener.protocol().configName()).isEqualTo("managesieve");
        assertThat(listener.alpn()).containsExactly("managesieve");
        assertThat(config.pools().get(0).backends().get(0).portFor(Protocol.MANAGESIEVE))
                .isEqualTo(4190);
    }

    @Test
    void aBackendWithoutAManageSievePortIsReportedForAManageSieveListener() {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse(
                        """
                        listeners:
                          - {name: sieve, protocol: managesieve, bind: "127.0.0.1:4190", pool: p}
                        pools:
                          - {name: p, backends: [{host: 10.0.2.11, ports: {imap: 143}}]}
                        """,
                        Path.of(".")));
        assertThat(e.getMessage()).contains("managesieve");
    }
}
