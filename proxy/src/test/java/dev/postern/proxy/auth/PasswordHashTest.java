package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.proxy.testing.Processes;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Hashes written by the real tools (htpasswd, mkpasswd, doveadm pw) at test time, verified by {@link PasswordHash}. */
class PasswordHashTest {
    private static final String PASSWORD = "cörrect horse:battery$staple";

    /** A tool's command line that prints a hash of {@link #PASSWORD}, and the scheme Postern should see. */
    record Tool(String scheme, List<String> command) {
        @Override
        public String toString() {
            return String.join(" ", command);
        }
    }

    static List<Tool> tools() {
        return List.of(
                new Tool("bcrypt", List.of("htpasswd", "-nbB", "-C", "5", "u", PASSWORD)),
                new Tool("sha512-crypt", List.of("mkpasswd", "-m", "sha-512", PASSWORD)),
                new Tool("sha512-crypt", List.of("mkpasswd", "-m", "sha-512", "-R", "12345", PASSWORD)),
                new Tool("sha256-crypt", List.of("mkpasswd", "-m", "sha-256", PASSWORD)),
                new Tool("bcrypt", List.of("mkpasswd", "-m", "bcrypt", "-R", "5", PASSWORD)),
                new Tool("sha512-crypt", List.of("doveadm", "pw", "-s", "SHA512-CRYPT", "-p", PASSWORD)),
                new Tool("sha256-crypt", List.of("doveadm", "pw", "-s", "SHA256-CRYPT", "-p", PASSWORD)),
                new Tool("bcrypt", List.of("doveadm", "pw", "-s", "BLF-CRYPT", "-r", "5", "-p", PASSWORD)),
                new Tool("argon2id", List.of("doveadm", "pw", "-s", "ARGON2ID", "-p", PASSWORD)),
                new Tool("argon2i", List.of("doveadm", "pw", "-s", "ARGON2I", "-p", PASSWORD)));
    }

    private static String run(Tool tool) {
        Processes.Result r =
                Processes.run(Duration.ofSeconds(60), tool.command().toArray(String[]::new));
        assertThat(r.exitCode()).as("%s\n%s", tool, r).isZero();
        String out = r.stdout().strip();
        // htpasswd -n prints user:hash
        return tool.command().get(0).equals("htpasswd") ? out.substring(out.indexOf(':') + 1) : out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tools")
    void verifiesWhatTheToolWrote(Tool tool) {
        String stored = run(tool);

        PasswordHash hash = PasswordHash.parse(stored);

        assertThat(hash.scheme()).isEqualTo(tool.scheme());
        assertThat(hash.verify(PASSWORD))
                .as("right password against %s", stored)
                .isTrue();
        assertThat(hash.verify(PASSWORD + "x")).isFalse();
        assertThat(hash.verify("")).isFalse();
        assertThat(hash.verify(PASSWORD.replace('ö', 'o'))).isFalse();
        assertThat(hash.toString()).doesNotContain(stored.substring(stored.length() - 10));
    }

    @Test
    void matchesTheSpecificationsTestVectors() {
        assertThat(PasswordHash.parse("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5")
                        .verify("Hello world!"))
                .isTrue();
        assertThat(PasswordHash.parse("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBF"
                                + "dcbYEdFCoEOfaS35inz1")
                        .verify("Hello world!"))
                .isTrue();
        assertThat(PasswordHash.parse("$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/"
                                + "UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.")
                        .verify("Hello world!"))
                .isTrue();
    }

    @Test
    void aPasswordLongerThan72BytesIsCutAsBcryptDoes() {
        String longPassword = "x".repeat(72);
        PasswordHash hash =
                PasswordHash.parse(run(new Tool("bcrypt", List.of("htpasswd", "-nbB", "-C", "4", "u", longPassword))));

        assertThat(hash.verify(longPassword)).isTrue();
        assertThat(hash.verify(longPassword + "ignored")).isTrue();
        assertThat(hash.verify("x".repeat(71))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{PLAIN}secret",
                "{MD5-CRYPT}$1$abc$def",
                "{SHA512-CRYPT}$2y$05$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
                "$2y$05$short",
                "$2y$99$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
                "$6$salt$tooshort",
                "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA",
                "$argon2id$v=19$m=99999999999,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
                "$argon2d$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
                "$1$md5$xyzw",
                "plaintext",
                "{BLF-CRYPT"
            })
    void refusesWhatItCannotVerifyWithoutQuotingIt(String stored) {
        assertThatThrownBy(() -> PasswordHash.parse(stored))
                .isInstanceOf(IllegalArgumentException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(stored.substring(stored.length() - 4)));
    }
}
