package dev.postern.config;

import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static dev.postern.config.ConfigTexts.withListener;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AlpnConfigTest {
    private static final String IMAPS = "name: imaps\nprotocol: imap\nbind: 127.0.0.1:1993\ntls: implicit\n";
    private static final String TCP = "name: tls\nprotocol: tcp\nbind: 127.0.0.1:1443\ntls: implicit\npool: dovecot\n";

    private static ListenerConfig listener(String text) throws ConfigException {
        return parse(withListener(text)).listeners().get(0);
    }

    @Test
    void mailListenersAcceptTheirOwnProtocolByDefault() throws Exception {
        assertThat(listener(IMAPS).alpn()).containsExactly("imap");
        assertThat(listener(IMAPS + "tls-alpn: strict").alpn()).containsExactly("imap");
        assertThat(listener("name: pop3s\nprotocol: pop3\nbind: 127.0.0.1:1995\n")
                        .alpn())
                .containsExactly("pop3");
        assertThat(listener("name: sub\nprotocol: smtp\nbind: 127.0.0.1:1465\n").alpn())
                .containsExactly("smtp");
    }

    @Test
    void offSwitchesTheCheckOffEvenAsYamlsBareBoolean() throws Exception {
        assertThat(listener(IMAPS + "tls-alpn: off").alpn()).isEmpty();
        assertThat(listener(IMAPS + "tls-alpn: 'off'").alpn()).isEmpty();
    }

    @Test
    void tcpListenersCheckNothingUnlessGivenAList() throws Exception {
        assertThat(listener(TCP).alpn()).isEmpty();
        assertThat(listener(TCP + "tls-alpn: [h2, http/1.1, h2]").alpn()).containsExactly("h2", "http/1.1");
    }

    @Test
    void everyBadValueIsReportedWithItsPath() {
        assertThat(problems(withListener(TCP + "tls-alpn: strict")))
                .containsExactly("listeners[0].tls-alpn: 'strict' needs the listener's own protocol, and a tcp"
                        + " listener has none: list the ALPN ids it accepts (for example [h2, http/1.1]) or leave it"
                        + " off");
        assertThat(problems(withListener(IMAPS + "tls-alpn: loose")))
                .containsExactly("listeners[0].tls-alpn: 'loose' is not one of strict, off");
        assertThat(problems(withListener(IMAPS + "tls-alpn: []")))
                .containsExactly("listeners[0].tls-alpn: is empty (ALPN protocol ids, or 'off')");
        assertThat(problems(withListener(IMAPS + "tls-alpn: [imap, 'a b']")))
                .containsExactly("listeners[0].tls-alpn[1]: 'a b' is not an ALPN protocol id (1 to 255 printable"
                        + " ASCII characters, no spaces)");
    }
}
