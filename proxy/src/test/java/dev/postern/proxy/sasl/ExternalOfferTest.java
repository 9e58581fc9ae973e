package dev.postern.proxy.sasl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.imap.ImapCapabilities;
import dev.postern.proxy.pop3.Pop3Capabilities;
import dev.postern.proxy.smtp.EhloKeywords;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where each protocol offers EXTERNAL: only with a verified client certificate, last among the mechanisms. */
class ExternalOfferTest {
    @Test
    void imapCapabilityListsAuthExternalOnlyWithACertificate() {
        assertThat(ImapCapabilities.preAuth(false, true, true)).endsWith("AUTH=OAUTHBEARER AUTH=EXTERNAL");
        assertThat(ImapCapabilities.preAuth(false, true, false)).doesNotContain("EXTERNAL");
        assertThat(ImapCapabilities.preAuth(true, false, true))
                .as("no credentials before TLS, a certificate or not")
                .doesNotContain("AUTH=");
    }

    @Test
    void pop3CapaEndsItsSaslLineWithExternalOnlyWithACertificate() {
        assertThat(Pop3Capabilities.advertised(List.of(), true, false, true))
                .contains("SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER EXTERNAL");
        assertThat(Pop3Capabilities.advertised(List.of(), true, false, false))
                .contains("SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER");
    }

    @Test
    void smtpEhloEndsItsAuthLineWithExternalOnlyWithACertificate() {
        List<String> backend = List.of("PIPELINING", "AUTH PLAIN LOGIN");
        assertThat(EhloKeywords.offer(backend, false, true, true)).contains("AUTH PLAIN LOGIN EXTERNAL");
        assertThat(EhloKeywords.offer(backend, false, true, false)).contains("AUTH PLAIN LOGIN");
        assertThat(EhloKeywords.offer(backend, false, false, true))
                .as("AUTH not offered at all")
                .noneMatch(line -> line.startsWith("AUTH"));
    }
}
