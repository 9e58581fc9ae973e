package dev.postern.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** SPF macro expansion without DNS, with the examples of RFC 7208 section 7.4. */
class SpfMacroTest {
    private static final SpfMacro.Context RFC_V4 = context("192.0.2.3");
    private static final SpfMacro.Context RFC_V6 = context("2001:db8::cb01");

    private static SpfMacro.Context context(String ip) {
        try {
            return new SpfMacro.Context(
                    InetAddress.getByName(ip), "strong-bad@email.example.com", "email.example.com", "mx.example.org");
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = '|',
            textBlock =
                    """
                    %{s}                              | strong-bad@email.example.com
                    %{o}                              | email.example.com
                    %{d}                              | email.example.com
                    %{d4}                             | email.example.com
                    %{d3}                             | email.example.com
                    %{d2}                             | example.com
                    %{d1}                             | com
                    %{dr}                             | com.example.email
                    %{d2r}                            | example.email
                    %{l}                              | strong-bad
                    %{l-}                             | strong.bad
                    %{lr}                             | strong-bad
                    %{lr-}                            | bad.strong
                    %{l1r-}                           | strong
                    %{ir}.%{v}._spf.%{d2}             | 3.2.0.192.in-addr._spf.example.com
                    %{lr-}.lp._spf.%{d2}              | bad.strong.lp._spf.example.com
                    %{lr-}.lp.%{ir}.%{v}._spf.%{d2}   | bad.strong.lp.3.2.0.192.in-addr._spf.example.com
                    %{ir}.%{v}.%{l1r-}.lp._spf.%{d2}  | 3.2.0.192.in-addr.strong.lp._spf.example.com
                    %{d2}.trusted-domains.example.net | example.com.trusted-domains.example.net
                    %{i}                              | 192.0.2.3
                    %{h}                              | mx.example.org
                    %{p}                              | unknown
                    %{S}                              | strong-bad%40email.example.com
                    %%-%_-%-                          | %- -%20
                    """)
    void expandsTheExamplesOfRfc7208(String macro, String expansion) {
        assertThat(SpfMacro.parse(macro).expand(RFC_V4)).isEqualTo(expansion);
    }

    @Test
    void expandsAnIpv6AddressAsNibbles() {
        assertThat(SpfMacro.parse("%{ir}.%{v}._spf.%{d2}").expand(RFC_V6))
                .isEqualTo("1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
        assertThat(SpfMacro.parse("%{i}").expand(RFC_V6))
                .isEqualTo("2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1");
    }

    @Test
    void anIpv4MappedAddressExpandsAsIpv4() throws Exception {
        SpfMacro.Context mapped =
                new SpfMacro.Context(InetAddress.getByName("::ffff:192.0.2.3"), "a@b.example", "b.example", "h");

        assertThat(SpfMacro.parse("%{ir}.%{v}").expand(mapped)).isEqualTo("3.2.0.192.in-addr");
    }

    @Test
    void aSenderWithoutLocalPartIsPostmaster() throws Exception {
        SpfMacro.Context helo =
                new SpfMacro.Context(InetAddress.getByName("192.0.2.3"), "mx.example.org", "mx.example.org", "mx");

        assertThat(SpfMacro.parse("%{l}@%{o}").expand(helo)).isEqualTo("postmaster@mx.example.org");
    }

    @Test
    void aLongExpansionLosesLabelsOnTheLeftUntilItFits() throws Exception {
        String local = "a".repeat(60) + "." + "b".repeat(60) + "." + "c".repeat(60) + "." + "d".repeat(60);
        SpfMacro.Context c =
                new SpfMacro.Context(InetAddress.getByName("192.0.2.3"), local + "@x.example", "x.example", "h");

        String name = SpfMacro.parseDomainSpec("%{l}._spf.%{d}").expandDomain(c);

        assertThat(name.length()).isLessThanOrEqualTo(253);
        assertThat(name).isEqualTo("b".repeat(60) + "." + "c".repeat(60) + "." + "d".repeat(60) + "._spf.x.example");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            textBlock =
                    """
                    %{x}.example.com     | 'x' is not a macro letter
                    %{c}.example.com     | 'c' is not a macro letter outside explanation strings
                    %{d0}                | a part count of 0
                    %{d                  | a macro without its '}'
                    %a.example.com       | '%a' is not a macro
                    example.com%         | ends with a lone '%'
                    %{}                  | an empty macro
                    %{d2r!}              | '!' in %{d2r!} is not a delimiter
                    """)
    void badMacrosAreSyntaxErrors(String text, String problem) {
        assertThatThrownBy(() -> SpfMacro.parse(text))
                .isInstanceOf(SpfSyntaxException.class)
                .hasMessageContaining(problem);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            textBlock =
                    """
                    example.com
                    example.com.
                    _spf.%{d}
                    %{d}
                    %{ir}.x.example-1.net
                    """)
    void domainSpecsEndInATopLabelOrAMacro(String text) {
        assertThat(SpfMacro.parseDomainSpec(text)).hasToString(text);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            textBlock =
                    """
                    example
                    example.123
                    example.com-
                    %{d}.
                    """)
    void otherDomainSpecsAreSyntaxErrors(String text) {
        assertThatThrownBy(() -> SpfMacro.parseDomainSpec(text))
                .isInstanceOf(SpfSyntaxException.class)
                .hasMessageContaining("does not end in a macro or a top-level label");
    }
}
