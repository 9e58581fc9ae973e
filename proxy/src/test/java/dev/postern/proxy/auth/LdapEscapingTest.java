package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Filter;
import org.junit.jupiter.api.Test;

class LdapEscapingTest {

    @Test
    void anInjectionAttemptInAFilterStaysOneLiteralValue() throws Exception {
        String filter =
                LdapEscaping.expand("(&(objectClass=inetOrgPerson)(uid=%u))", "*)(uid=*", LdapEscaping::filterValue);

        assertThat(filter).isEqualTo("(&(objectClass=inetOrgPerson)(uid=\\2a\\29\\28uid=\\2a))");
        Filter parsed = Filter.create(filter);
        assertThat(parsed.getComponents()[1].getFilterType()).isEqualTo(Filter.FILTER_TYPE_EQUALITY);
        assertThat(parsed.getComponents()[1].getAssertionValue()).isEqualTo("*)(uid=*");
    }

    @Test
    void filterValuesEscapeBackslashNulAndControlCharacters() {
        assertThat(LdapEscaping.filterValue("a\\b\u0000c\nd")).isEqualTo("a\\5cb\\00c\\0ad");
        assertThat(LdapEscaping.filterValue("ålice@example.test")).isEqualTo("ålice@example.test");
        assertThat(LdapEscaping.filterValue("x")).isEqualTo(Filter.encodeValue("x"));
    }

    @Test
    void aDnValueCannotAddAnRdnOrAComponent() throws Exception {
        String dn =
                LdapEscaping.expand("uid=%u,ou=people,dc=example,dc=test", "eve,ou=admins+cn=x", LdapEscaping::dnValue);

        DN parsed = new DN(dn);
        assertThat(parsed.getRDNs()).hasSize(4);
        assertThat(parsed.getRDN().getAttributeValues()).containsExactly("eve,ou=admins+cn=x");
    }

    @Test
    void dnValuesEscapeLeadingHashAndSpacesAndTheSpecials() throws Exception {
        assertThat(LdapEscaping.dnValue("#a b ")).isEqualTo("\\#a b\\ ");
        assertThat(LdapEscaping.dnValue(" x")).isEqualTo("\\ x");
        assertThat(LdapEscaping.dnValue("a\"b;c<d>e=f\\g")).isEqualTo("a\\\"b\\;c\\<d\\>e\\=f\\\\g");
        assertThat(new DN("uid=" + LdapEscaping.dnValue("#a b ") + ",dc=test")
                        .getRDN()
                        .getAttributeValues())
                .containsExactly("#a b ");
    }

    @Test
    void placeholdersSplitTheUserAtTheLastAt() {
        assertThat(LdapEscaping.expand("%n|%d|%u|%%", "alice@example.test", s -> s))
                .isEqualTo("alice|example.test|alice@example.test|%");
        assertThat(LdapEscaping.expand("%n|%d", "alice", s -> s)).isEqualTo("alice|");
        assertThat(LdapEscaping.expand("uid=%n,dc=%d", "a(b@c)d", LdapEscaping::filterValue))
                .isEqualTo("uid=a\\28b,dc=c\\29d");
    }
}
