package dev.postern.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.SpfConfig;
import java.net.InetAddress;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The Received-SPF header text (RFC 7208 section 9.1). */
class ReceivedSpfTest {

    private static SpfResult result(
            SpfVerdict verdict, SpfResult.Identity identity, String mailFrom, String helo, String ip, String problem)
            throws Exception {
        String sender = mailFrom.isEmpty() ? "postmaster@" + helo : mailFrom;
        return new SpfResult(
                verdict,
                identity,
                sender.substring(sender.indexOf('@') + 1),
                sender,
                mailFrom,
                helo,
                InetAddress.getByName(ip),
                Optional.of("ip4:192.0.2.0/24"),
                Optional.ofNullable(problem));
    }

    private static SpfResult mailFrom(SpfVerdict verdict) throws Exception {
        return result(verdict, SpfResult.Identity.MAILFROM, "x@example.test", "mx.example.test", "192.0.2.1", null);
    }

    @Test
    void aPassSaysWhoDesignatedWhom() throws Exception {
        assertThat(ReceivedSpf.header(mailFrom(SpfVerdict.PASS), "postern"))
                .isEqualTo("Received-SPF: pass (postern: domain of x@example.test designates 192.0.2.1 as permitted"
                        + " sender) client-ip=192.0.2.1; envelope-from=\"x@example.test\"; helo=mx.example.test;");
    }

    @Test
    void eachResultHasItsComment() throws Exception {
        assertThat(ReceivedSpf.header(mailFrom(SpfVerdict.FAIL), "postern"))
                .startsWith("Received-SPF: fail (postern: domain of x@example.test does not designate 192.0.2.1 as"
                        + " permitted sender) client-ip=");
        assertThat(ReceivedSpf.header(mailFrom(SpfVerdict.SOFTFAIL), "postern"))
                .startsWith("Received-SPF: softfail (postern: domain of transitioning x@example.test does not"
                        + " designate 192.0.2.1 as permitted sender)");
        assertThat(ReceivedSpf.header(mailFrom(SpfVerdict.NEUTRAL), "postern"))
                .startsWith("Received-SPF: neutral (postern: 192.0.2.1 is neither permitted nor denied by domain of"
                        + " x@example.test)");
        assertThat(ReceivedSpf.header(mailFrom(SpfVerdict.NONE), "postern"))
                .startsWith("Received-SPF: none (postern: domain of x@example.test does not designate permitted"
                        + " sender hosts)");
    }

    @Test
    void errorsCarryTheirProblem() throws Exception {
        SpfResult perm = result(
                SpfVerdict.PERMERROR,
                SpfResult.Identity.MAILFROM,
                "x@example.test",
                "mx.example.test",
                "192.0.2.1",
                "example.test has 2 SPF records");

        assertThat(ReceivedSpf.header(perm, "mx.postern.test"))
                .isEqualTo("Received-SPF: permerror (mx.postern.test: permanent error in processing domain of"
                        + " x@example.test: example.test has 2 SPF records) client-ip=192.0.2.1;"
                        + " envelope-from=\"x@example.test\"; helo=mx.example.test;"
                        + " problem=\"example.test has 2 SPF records\";");
    }

    @Test
    void theHeloIdentityIsNamed() throws Exception {
        SpfResult helo = result(SpfVerdict.PASS, SpfResult.Identity.HELO, "", "mx.example.test", "2001:db8::1", null);

        assertThat(ReceivedSpf.header(helo, "postern"))
                .isEqualTo("Received-SPF: pass (postern: domain of postmaster@mx.example.test designates 2001:db8::1 as"
                        + " permitted sender) client-ip=\"2001:db8::1\"; envelope-from=\"\"; helo=mx.example.test;"
                        + " identity=helo;");
    }

    @Test
    void clientTextCannotBreakOutOfTheHeader() throws Exception {
        SpfResult evil = result(
                SpfVerdict.FAIL,
                SpfResult.Identity.MAILFROM,
                "a\"b\\c@example.test",
                "evil\r\nBcc: victim@example.test (x)",
                "192.0.2.1",
                null);

        String header = ReceivedSpf.header(evil, "postern");

        assertThat(header).doesNotContain("\r").doesNotContain("\n");
        assertThat(header).contains("envelope-from=\"a\\\"b\\\\c@example.test\";");
        assertThat(header).contains("helo=\"evilBcc: victim@example.test (x)\";");
        assertThat(header).contains("domain of a\"b\\\\c@example.test does not");
    }

    @Test
    void longValuesAreCut() throws Exception {
        SpfResult longHelo = result(
                SpfVerdict.NONE,
                SpfResult.Identity.MAILFROM,
                "x@example.test",
                "h".repeat(5000) + ".example.test",
                "192.0.2.1",
                null);

        assertThat(ReceivedSpf.header(longHelo, "postern")).hasSizeLessThan(600);
    }

    @Test
    void foldedLinesStayWithin78CharactersAndUnfoldToTheHeader() throws Exception {
        SpfResult r = mailFrom(SpfVerdict.PASS);

        String folded = ReceivedSpf.folded(r, "postern");

        assertThat(folded).endsWith("\r\n");
        for (String line : folded.substring(0, folded.length() - 2).split("\r\n")) {
            assertThat(line.length()).as(line).isLessThanOrEqualTo(78);
        }
        assertThat(folded.split("\r\n")).hasSizeGreaterThan(1);
        assertThat(folded.substring(1).split("\r\n"))
                .allSatisfy(l -> assertThat(l).isNotEmpty());
        assertThat(folded.replace("\r\n", "")).isEqualTo(ReceivedSpf.header(r, "postern"));
    }

    @Test
    void onlyAFailIsRejectedAndOnlyUnderReject() throws Exception {
        assertThat(mailFrom(SpfVerdict.FAIL).rejectedBy(SpfConfig.Policy.REJECT))
                .isTrue();
        assertThat(mailFrom(SpfVerdict.FAIL).rejectedBy(SpfConfig.Policy.ANNOTATE))
                .isFalse();
        assertThat(mailFrom(SpfVerdict.SOFTFAIL).rejectedBy(SpfConfig.Policy.REJECT))
                .isFalse();
        assertThat(mailFrom(SpfVerdict.PERMERROR).rejectedBy(SpfConfig.Policy.REJECT))
                .isFalse();
    }
}
