package dev.postern.proxy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * A users file for the static auth provider with the dev backends' users (bcrypt at the lowest cost, tests only),
 * and the YAML that declares it as provider {@code local}.
 */
public final class TestUsers {
    private TestUsers() {}

    /** Writes {@code users.txt} into {@code dir} with alice and bob and their dev passwords. */
    public static Path write(Path dir) {
        return write(dir, new String[][] {
            {DevBackends.ALICE, DevBackends.ALICE_PASSWORD}, {DevBackends.BOB, DevBackends.BOB_PASSWORD}
        });
    }

    /** Writes {@code users.txt} into {@code dir} with the given {user, password} pairs. */
    public static Path write(Path dir, String[][] users) {
        SecureRandom random = new SecureRandom();
        StringBuilder sb = new StringBuilder("# written by TestUsers\n");
        for (String[] u : users) {
            byte[] salt = new byte[16];
            random.nextBytes(salt);
            sb.append(u[0])
                    .append(':')
                    .append(OpenBSDBCrypt.generate("2y", u[1].toCharArray(), salt, 4))
                    .append('\n');
        }
        try {
            return Files.writeString(dir.resolve("users.txt"), sb.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The top-level YAML section declaring {@code users.txt} (relative to the config's directory) as {@code local}. */
    public static final String AUTH_SECTION =
            """
            auth:
              providers:
                - {name: local, type: static, file: users.txt}
            """;
}
