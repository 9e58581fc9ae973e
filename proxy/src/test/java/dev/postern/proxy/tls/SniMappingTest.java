package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SniMappingTest {
    private final SniMapping<String> mapping =
            SniMapping.<String>builder().defaultValue("default").build();

    private static SniMapping<String> example() {
        SniMapping.Builder<String> builder = SniMapping.builder();
        builder.add(SniMapping.canonicalName("Mail.Example.TEST"), "mail");
        builder.add(SniMapping.canonicalName("*.Example.test"), "wildcard");
        builder.add(SniMapping.canonicalName("example.test."), "apex");
        builder.add(SniMapping.canonicalName("bücher.example"), "idn");
        return builder.defaultValue("default").build();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "mail.example.test, mail",
        "MAIL.EXAMPLE.TEST, mail",
        "mail.example.test., mail",
        "imap.example.test, wildcard",
        "IMAP.Example.Test, wildcard",
        "a.b.example.test, default",
        "example.test, apex",
        "other.test, default",
        "test, default",
        "xn--bcher-kva.example, idn",
        "'', default",
    })
    void picksExactNamesThenOneLabelWildcardsThenTheDefault(String sni, String expected) {
        assertThat(example().map(sni)).isEqualTo(expected);
    }

    @Test
    void noSniGetsTheDefault() {
        assertThat(example().map(null)).isEqualTo("default");
        assertThat(mapping.map(null)).isEqualTo("default");
        assertThat(mapping.map("anything.test")).isEqualTo("default");
    }

    @Test
    void theFirstCertificateForANameKeepsIt() {
        SniMapping.Builder<String> builder = SniMapping.builder();
        assertThat(builder.add("mail.example.test", "first")).isEqualTo("first");
        assertThat(builder.add("mail.example.test", "second")).isEqualTo("first");
        assertThat(builder.add("*.example.test", "wild")).isEqualTo("wild");
        assertThat(builder.add("*.example.test", "wild2")).isEqualTo("wild");

        assertThat(builder.defaultValue("d").build().map("mail.example.test")).isEqualTo("first");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "*",
                "*.",
                "*.com",
                "a.*.example.test",
                "mail*.example.test",
                "-mail.example.test",
                "mail..example.test",
                "mail example.test",
                "*.*.example.test"
            })
    void refusesNamesThatAreNeitherHostNamesNorOneLabelWildcards(String name) {
        assertThatThrownBy(() -> SniMapping.canonicalName(name))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'" + name + "' is not a host name or *.domain");
    }

    @Test
    void canonicalNamesAreLowerCaseAsciiWithoutTrailingDot() {
        assertThat(SniMapping.canonicalName("Mail.Example.TEST.")).isEqualTo("mail.example.test");
        assertThat(SniMapping.canonicalName("*.Example.Test")).isEqualTo("*.example.test");
        assertThat(SniMapping.canonicalName("bücher.example")).isEqualTo("xn--bcher-kva.example");
        assertThat(SniMapping.canonicalName("localhost")).isEqualTo("localhost");
    }
}
