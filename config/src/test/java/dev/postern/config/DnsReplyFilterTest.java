package dev.postern.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The postscreen-style reply filter of a DNS list, without any DNS. */
class DnsReplyFilterTest {

    private static byte[] ip(int a, int b, int c, int d) {
        return new byte[] {(byte) a, (byte) b, (byte) c, (byte) d};
    }

    @Test
    void aRangeInTheLastOctetMatchesItsEndsAndNothingOutside() {
        DnsblReplyFilter filter = DnsblReplyFilter.parse("127.0.0.[2..11]");

        assertThat(filter.matches(ip(127, 0, 0, 2))).isTrue();
        assertThat(filter.matches(ip(127, 0, 0, 11))).isTrue();
        assertThat(filter.matches(ip(127, 0, 0, 1))).isFalse();
        assertThat(filter.matches(ip(127, 0, 0, 12))).isFalse();
        assertThat(filter.matches(ip(127, 0, 1, 2)))
                .as("other octets are exact")
                .isFalse();
        assertThat(filter.matches(ip(127, 255, 255, 254)))
                .as("a list's error answer")
                .isFalse();
    }

    @Test
    void listsMixNumbersAndRangesInAnyOctet() {
        DnsblReplyFilter filter = DnsblReplyFilter.parse("127.[0;2].[0..255].[1;3;5..9]");

        assertThat(filter.matches(ip(127, 0, 200, 1))).isTrue();
        assertThat(filter.matches(ip(127, 2, 0, 7))).isTrue();
        assertThat(filter.matches(ip(127, 1, 0, 1))).isFalse();
        assertThat(filter.matches(ip(127, 0, 0, 4))).isFalse();
        assertThat(filter.matches(ip(127, 0, 0, 255))).isFalse();
    }

    @Test
    void aPlainAddressMatchesOnlyItself() {
        DnsblReplyFilter filter = DnsblReplyFilter.parse("127.0.0.2");

        assertThat(filter.matches(ip(127, 0, 0, 2))).isTrue();
        assertThat(filter.matches(ip(127, 0, 0, 3))).isFalse();
        assertThat(filter.matches(new byte[16])).as("an IPv6 answer").isFalse();
        assertThat(filter).hasToString("127.0.0.2").isEqualTo(DnsblReplyFilter.parse("127.0.0.2"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '"',
            textBlock =
                    """
                    127.0.0.[2..300]  | octet 4: 300 is more than 255
                    127.0.0.256       | octet 4: 256 is more than 255
                    127.0.0.1000      | octet 4: 1000 is more than 255
                    127.0.0           | 3 octets where an IPv4 address has 4
                    127.0.0.1.2       | 5 octets where an IPv4 address has 4
                    127.0..2          | octet 3: empty
                    127.0.0.[11..2]   | octet 4: the range 11..2 runs backwards
                    127.0.0.[2..11    | a '[' without its ']'
                    127.0.0.[]        | octet 4: '[]' is not a bracketed list such as [2..11] or [2;4]
                    127.0.0.[2;;3]    | octet 4: '' is not a number (0-255) or a range such as 2..11
                    127.0.0.[2..]     | octet 4: '2..' is not a number (0-255) or a range such as 2..11
                    127.0.0.x         | octet 4: 'x' is not a number or a bracketed list such as [2..11]
                    127.0.0.-1        | octet 4: '-1' is not a number or a bracketed list such as [2..11]
                    127.0.0.[2]x      | octet 4: '[2]x' is not a bracketed list such as [2..11] or [2;4]
                    """)
    void badFiltersSayWhatIsWrongWhere(String text, String why) {
        assertThatThrownBy(() -> DnsblReplyFilter.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'" + text + "' is not a reply filter (" + why + ")");
    }
}
