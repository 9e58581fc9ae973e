package dev.postern.proxy.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What Postern's CAPA lists, from what a backend offers and what the connection allows. */
class Pop3CapabilitiesTest {
    private static final List<String> DOVECOT = List.of(
            "CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "STLS", "USER", "SASL PLAIN LOGIN");

    @Test
    void keepsOnlyWhatABackendOffersAfterLogin() {
        assertThat(Pop3Capabilities.afterLogin(List.of(
                        "TOP",
                        "UIDL",
                        "EXPIRE 30",
                        "LOGIN-DELAY 60",
                        "stls",
                        "USER",
                        "SASL PLAIN",
                        "XCLIENT",
                        "IMPLEMENTATION Dovecot",
                        "",
                        " PIPELINING ")))
                .containsExactly("TOP", "UIDL", "EXPIRE 30", "LOGIN-DELAY 60", "PIPELINING");
    }

    @Test
    void boundsWhatItKeepsFromABackend() {
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            many.add("X-CAP" + i);
        }
        many.add(1, "X-LONG " + "a".repeat(300));
        List<String> kept = Pop3Capabilities.afterLogin(many);
        assertThat(kept).hasSize(Pop3Capabilities.MAX_LINES).noneMatch(l -> l.startsWith("X-LONG"));
    }

    @Test
    void beforeTlsOnAStartTlsListenerOffersStlsButNoCredentials() {
        assertThat(Pop3Capabilities.advertised(Pop3Capabilities.afterLogin(DOVECOT), false, true))
                .containsExactly(
                        "CAPA",
                        "TOP",
                        "UIDL",
                        "RESP-CODES",
                        "PIPELINING",
                        "AUTH-RESP-CODE",
                        "STLS",
                        "IMPLEMENTATION Postern");
    }

    @Test
    void withTlsOffersUserAndSaslButNoStls() {
        assertThat(Pop3Capabilities.advertised(Pop3Capabilities.afterLogin(DOVECOT), true, false))
                .containsExactly(
                        "CAPA",
                        "TOP",
                        "UIDL",
                        "RESP-CODES",
                        "PIPELINING",
                        "AUTH-RESP-CODE",
                        "USER",
                        "SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER",
                        "IMPLEMENTATION Postern");
    }

    @Test
    void withNothingKnownListsOnlyPosternsOwn() {
        assertThat(Pop3Capabilities.advertised(List.of(), true, false))
                .containsExactly(
                        "USER",
                        "SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER",
                        "RESP-CODES",
                        "AUTH-RESP-CODE",
                        "IMPLEMENTATION Postern");
    }
}
