package dev.postern.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.bench.load.Script.Expect;
import org.junit.jupiter.api.Test;

/** How each reply is judged. */
class ScriptClientTest {
    @Test
    void imapTaggedReplyMustCarryOurTagAndOk() {
        Expect ok = Expect.imapOk("a2");
        assertThat(ScriptClient.verdict(ok, "* 3 EXISTS")).isNull();
        assertThat(ScriptClient.verdict(ok, "a2 OK [READ-WRITE] done")).isTrue();
        assertThat(ScriptClient.verdict(ok, "a2 NO no such mailbox")).isFalse();
        assertThat(ScriptClient.verdict(ok, "a2 BAD what")).isFalse();
        assertThat(ScriptClient.verdict(ok, "a1 OK stale")).isFalse();
        assertThat(ScriptClient.verdict(ok, "+ go ahead")).isFalse();
    }

    @Test
    void imapGreetingMustBeOk() {
        assertThat(ScriptClient.verdict(Expect.IMAP_GREETING, "* OK [CAPABILITY IMAP4rev1] ready"))
                .isTrue();
        assertThat(ScriptClient.verdict(Expect.IMAP_GREETING, "* BYE too many connections"))
                .isFalse();
    }

    @Test
    void idleWaitsForTheContinuation() {
        Expect idle = Expect.imapContinuation("i1");
        assertThat(ScriptClient.verdict(idle, "* 4 EXISTS")).isNull();
        assertThat(ScriptClient.verdict(idle, "+ idling")).isTrue();
        assertThat(ScriptClient.verdict(idle, "i1 BAD IDLE not supported")).isFalse();
    }

    @Test
    void pop3NeedsPlusOk() {
        assertThat(ScriptClient.verdict(Expect.POP3_OK, "+OK 3 4096")).isTrue();
        assertThat(ScriptClient.verdict(Expect.POP3_OK, "-ERR [AUTH] failed")).isFalse();
    }

    @Test
    void smtpReadsContinuationLinesThenChecksTheCode() {
        Expect ehlo = Expect.smtp(250);
        assertThat(ScriptClient.verdict(ehlo, "250-example.test")).isNull();
        assertThat(ScriptClient.verdict(ehlo, "250 SMTPUTF8")).isTrue();
        assertThat(ScriptClient.verdict(ehlo, "250")).isTrue();
        assertThat(ScriptClient.verdict(ehlo, "550 5.7.1 relay denied")).isFalse();
        assertThat(ScriptClient.verdict(Expect.smtp(235), "535 5.7.8 bad credentials"))
                .isFalse();
        assertThat(ScriptClient.verdict(ehlo, "25")).isFalse();
    }
}
