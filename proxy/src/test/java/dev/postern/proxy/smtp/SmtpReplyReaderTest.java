package dev.postern.proxy.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Backend reply parsing and the EHLO keyword rules built on it. */
class SmtpReplyReaderTest {
    @Test
    void collectsAMultiLineReply() throws Exception {
        SmtpReplyReader r = new SmtpReplyReader();
        assertThat(r.add("250-mx.example")).isNull();
        assertThat(r.add("250-PIPELINING")).isNull();
        SmtpReply reply = r.add("250 SIZE 1000");
        assertThat(reply.code()).isEqualTo(250);
        assertThat(reply.lines()).containsExactly("mx.example", "PIPELINING", "SIZE 1000");
        assertThat(r.add("235")).isEqualTo(new SmtpReply(235, List.of("")));
    }

    @Test
    void refusesWhatIsNotAReply() {
        assertThatThrownBy(() -> new SmtpReplyReader().add("* OK IMAP ready"))
                .isInstanceOf(SmtpReplyReader.MalformedReplyException.class);
        assertThatThrownBy(() -> new SmtpReplyReader().add("250x"))
                .isInstanceOf(SmtpReplyReader.MalformedReplyException.class);
        assertThatThrownBy(() -> new SmtpReplyReader().add("999 what"))
                .isInstanceOf(SmtpReplyReader.MalformedReplyException.class);
    }

    @Test
    void refusesACodeChangeWithinAReply() throws Exception {
        SmtpReplyReader r = new SmtpReplyReader();
        r.add("250-a");
        assertThatThrownBy(() -> r.add("220 b")).isInstanceOf(SmtpReplyReader.MalformedReplyException.class);
    }

    @Test
    void boundsTheNumberOfLines() throws Exception {
        SmtpReplyReader r = new SmtpReplyReader();
        for (int i = 0; i < SmtpReplyReader.MAX_LINES - 1; i++) {
            r.add("250-x");
        }
        assertThatThrownBy(() -> r.add("250-x")).isInstanceOf(SmtpReplyReader.MalformedReplyException.class);
    }

    @Test
    void ehloKeywordsAreReadCaseInsensitivelyAndHopByHopOnesAreNotPassedOn() {
        List<String> backend = List.of(
                "auth=LOGIN PLAIN",
                "Auth plain login",
                "8BITMIME",
                "xclient ADDR",
                "-NOPE",
                "BAD\u0001CTL",
                "DSN",
                "STARTTLS",
                "XFORWARD NAME");
        assertThat(EhloKeywords.keyword("auth=LOGIN PLAIN")).isEqualTo("AUTH");
        assertThat(EhloKeywords.parameters(backend, "AUTH")).containsExactly("LOGIN", "PLAIN", "PLAIN", "LOGIN");
        assertThat(EhloKeywords.passThrough(backend)).containsExactly("8BITMIME", "DSN");
        assertThat(EhloKeywords.offer(backend, true, false)).containsExactly("8BITMIME", "DSN", "STARTTLS");
    }
}
