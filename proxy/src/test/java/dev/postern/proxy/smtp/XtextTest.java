package dev.postern.proxy.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** RFC 3461 xtext, as XCLIENT sends it to SMTP and POP3 backends. */
class XtextTest {
    @Test
    void xtextKeepsPrintablesAndEncodesPlusEqualsSpacesControlsAndUtf8() {
        assertThat(Xtext.encode("mail.example.com")).isEqualTo("mail.example.com");
        assertThat(Xtext.encode("[192.0.2.1]")).isEqualTo("[192.0.2.1]");
        assertThat(Xtext.encode("a+b=c d")).isEqualTo("a+2Bb+3Dc+20d");
        assertThat(Xtext.encode("x\r\ny")).isEqualTo("x+0D+0Ay");
        assertThat(Xtext.encode("b\u00fccher")).isEqualTo("b+C3+BCcher");
    }
}
