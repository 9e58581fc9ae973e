package dev.postern.proxy.imap;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ImapCapabilitiesParseTest {
    @Test
    void wordsBetweenAnyRunOfSpaces() {
        assertThat(ImapCapabilities.parse("IMAP4rev1 SASL-IR  LOGIN-REFERRALS ID ENABLE IDLE AUTH=PLAIN"))
                .containsExactly("IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "AUTH=PLAIN");
        assertThat(ImapCapabilities.parse("  IMAP4rev1   IDLE \r")).containsExactly("IMAP4rev1", "IDLE");
        assertThat(ImapCapabilities.parse("IMAP4rev1")).containsExactly("IMAP4rev1");
    }

    @Test
    void nothingInAnEmptyOrBlankList() {
        assertThat(ImapCapabilities.parse("")).isEmpty();
        assertThat(ImapCapabilities.parse("   ")).isEmpty();
    }
}
