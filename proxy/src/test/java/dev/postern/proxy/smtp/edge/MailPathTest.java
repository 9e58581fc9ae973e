package dev.postern.proxy.smtp.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.config.SmtpConfig;
import dev.postern.proxy.smtp.MailPath;
import dev.postern.testkit.FakeTicker;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** MAIL/RCPT paths and parameters, and what relay access decides from them; the per-client keys and limits. */
class MailPathTest {

    private static MailPath rcpt(String argument) throws MailPath.SyntaxException {
        return MailPath.parse(argument, false, true);
    }

    @Test
    void aPlainAddressWithParameters() throws Exception {
        MailPath p = MailPath.parse("<Alice@Sender.Example> SIZE=100 body=8BITMIME SMTPUTF8", true, false);
        assertThat(p.localPart()).isEqualTo("Alice");
        assertThat(p.domain()).isEqualTo("Sender.Example");
        assertThat(p.address()).isEqualTo("Alice@sender.example");
        assertThat(p.path()).isEqualTo("<Alice@Sender.Example>");
        assertThat(p.parameters())
                .containsExactly(
                        new MailPath.Parameter("SIZE", "100"),
                        new MailPath.Parameter("BODY", "8BITMIME"),
                        new MailPath.Parameter("SMTPUTF8", null));
        assertThat(p.hasRoutingInLocalPart()).isFalse();
    }

    @Test
    void theNullPathOnlyForTheSender() throws Exception {
        assertThat(MailPath.parse("<>", true, false).isNull()).isTrue();
        assertThat(MailPath.parse("<>", true, false).path()).isEqualTo("<>");
        assertThatThrownBy(() -> rcpt("<>")).isInstanceOf(MailPath.SyntaxException.class);
    }

    @Test
    void postmasterWithoutADomainOnlyForRecipients() throws Exception {
        assertThat(rcpt("<Postmaster>").path()).isEqualTo("<Postmaster>");
        assertThat(rcpt("<Postmaster>").domain()).isEmpty();
        assertThatThrownBy(() -> MailPath.parse("<postmaster>", true, false))
                .isInstanceOf(MailPath.SyntaxException.class);
        assertThatThrownBy(() -> rcpt("<bob>")).isInstanceOf(MailPath.SyntaxException.class);
    }

    @Test
    void aSourceRouteIsDroppedAndATrailingDotToo() throws Exception {
        assertThat(rcpt("<@a.example,@b.example:bob@c.example>").path()).isEqualTo("<bob@c.example>");
        assertThat(rcpt("<bob@c.example.>").path()).isEqualTo("<bob@c.example>");
    }

    @Test
    void routingInTheLocalPartIsNoticedQuotedOrNot() throws Exception {
        assertThat(rcpt("<bob%other.example@local.example>").hasRoutingInLocalPart())
                .isTrue();
        assertThat(rcpt("<other.example!bob@local.example>").hasRoutingInLocalPart())
                .isTrue();
        assertThat(rcpt("<\"bob@other.example\"@local.example>").hasRoutingInLocalPart())
                .isTrue();
        assertThat(rcpt("<\"b\\@ob\"@local.example>").hasRoutingInLocalPart()).isTrue();
        assertThat(rcpt("<\"bob smith\"@local.example>").hasRoutingInLocalPart())
                .isFalse();
        assertThat(rcpt("<\"bob smith\"@local.example>").path()).isEqualTo("<\"bob smith\"@local.example>");
    }

    @Test
    void quotedStringsMayHoldBracketsAndSpaces() throws Exception {
        MailPath p = rcpt("<\"a>b c\"@local.example> NOTIFY=NEVER");
        assertThat(p.localPart()).isEqualTo("\"a>b c\"");
        assertThat(p.parameters()).containsExactly(new MailPath.Parameter("NOTIFY", "NEVER"));
    }

    @Test
    void addressLiteralsAndUtf8() throws Exception {
        assertThat(rcpt("<bob@[192.0.2.1]>").domain()).isEqualTo("[192.0.2.1]");
        assertThat(rcpt("<bob@[IPv6:2001:db8::1]>").domain()).isEqualTo("[IPv6:2001:db8::1]");
        assertThat(rcpt("<josé@exämple.test>").address()).isEqualTo("josé@exämple.test");
    }

    @Test
    void whatIsNotAPath() {
        for (String bad : List.of(
                "bob@example.test",
                "<bob@example.test",
                "<bob@other@example.test>",
                "<bob@-example.test>",
                "<bob@exa mple.test>",
                "<.bob@example.test>",
                "<bob..smith@example.test>",
                "<bob.@example.test>",
                "<\"unterminated@example.test>",
                "<bob@example.test>SIZE=1",
                "<bob@example.test> =1",
                "<bob@example.test> SIZE=",
                "<@a.example>",
                "<@a.example:>",
                "<bob@[300.1.1.1]>",
                "<<bob@example.test>>",
                "<" + "x".repeat(300) + "@example.test>")) {
            assertThatThrownBy(() -> rcpt(bad)).as(bad).isInstanceOf(MailPath.SyntaxException.class);
        }
    }

    @Test
    void ipv6ClientsCountByTheirSlash64() throws Exception {
        ClientKey a = ClientKey.of(InetAddress.getByName("2001:db8:1:2::1"));
        ClientKey b = ClientKey.of(InetAddress.getByName("2001:db8:1:2:ffff::9"));
        ClientKey c = ClientKey.of(InetAddress.getByName("2001:db8:1:3::1"));
        assertThat(a).isEqualTo(b).isNotEqualTo(c);
        assertThat(ClientKey.of(InetAddress.getByName("192.0.2.1")))
                .isNotEqualTo(ClientKey.of(InetAddress.getByName("192.0.2.2")));
    }

    @Test
    void limitsCountPerKeyAndForgetWithTheClock() throws Exception {
        FakeTicker ticker = new FakeTicker();
        ClientLimits limits = new ClientLimits(new SmtpConfig.Limits(2, 3, 0, 0, 0), ticker::read);
        InetAddress one = InetAddress.getByName("2001:db8::1");
        InetAddress sameNet = InetAddress.getByName("2001:db8::2");
        assertThat(limits.admit(one)).isNull();
        assertThat(limits.admit(sameNet)).isNull();
        assertThat(limits.admit(one)).isEqualTo(ClientLimits.Refusal.CONCURRENT);
        limits.release(one);
        assertThat(limits.open(one)).isEqualTo(1);
        assertThat(limits.admit(one)).as("the fourth in the minute").isEqualTo(ClientLimits.Refusal.RATE);
        ticker.advance(Duration.ofSeconds(61));
        assertThat(limits.admit(one)).isNull();
        limits.release(one);
        limits.release(sameNet);
        assertThat(limits.tracked())
                .as("nothing kept for clients without connections")
                .isZero();
    }
}
