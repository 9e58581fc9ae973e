package dev.postern.proxy.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Locale;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.BCrypt;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * A stored password hash, as {@code htpasswd -B}, {@code mkpasswd} and {@code doveadm pw} write them: bcrypt ({@code
 * $2a$}, {@code $2b$}, {@code $2y$}), Argon2 PHC strings ({@code $argon2id$v=19$m=...,t=...,p=...$salt$hash}, also
 * argon2i), SHA-512 and SHA-256 crypt ({@code $6$}, {@code $5$}), each optionally behind a Dovecot {@code {SCHEME}}
 * prefix. Verification is slow on purpose (it is CPU work for a dedicated executor, never an event loop) and compares
 * in constant time. {@link #toString()} never shows the hash.
 */
public sealed interface PasswordHash permits PasswordHash.Bcrypt, PasswordHash.ShaCrypt, PasswordHash.Argon2 {

    /** Whether {@code password} is the one this hash was made from. */
    boolean verify(String password);

    /** The scheme name, for logs ({@code bcrypt}, {@code sha512-crypt}, {@code argon2id}). */
    String scheme();

    /**
     * Parses a stored hash.
     *
     * @throws IllegalArgumentException saying what is wrong, without quoting the hash
     */
    static PasswordHash parse(String stored) {
        String s = stored.strip();
        if (s.startsWith("{")) {
            int close = s.indexOf('}');
            if (close < 0) {
                throw new IllegalArgumentException("an unclosed {SCHEME} prefix");
            }
            String scheme = s.substring(1, close).toUpperCase(Locale.ROOT);
            String rest = s.substring(close + 1);
            PasswordHash hash =
                    switch (scheme) {
                        case "BLF-CRYPT", "SHA512-CRYPT", "SHA256-CRYPT", "ARGON2ID", "ARGON2I", "CRYPT" -> parse(rest);
                        case "PLAIN", "CLEAR", "CLEARTEXT", "PLAIN-TRUNC" -> throw new IllegalArgumentException(
                                "{" + scheme + "} stores the password itself; store a hash (doveadm pw -s ARGON2ID)");
                        default -> throw new IllegalArgumentException("scheme {" + scheme
                                + "} is not supported (BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, ARGON2ID, ARGON2I)");
                    };
            boolean matches =
                    switch (scheme) {
                        case "BLF-CRYPT" -> hash instanceof Bcrypt;
                        case "SHA512-CRYPT" -> hash instanceof ShaCrypt c && c.bits() == 512;
                        case "SHA256-CRYPT" -> hash instanceof ShaCrypt c && c.bits() == 256;
                        case "ARGON2ID" -> hash.scheme().equals("argon2id");
                        case "ARGON2I" -> hash.scheme().equals("argon2i");
                        default -> true;
                    };
            if (!matches) {
                throw new IllegalArgumentException("{" + scheme + "} is followed by a " + hash.scheme() + " hash");
            }
            return hash;
        }
        if (s.startsWith("$2a$") || s.startsWith("$2b$") || s.startsWith("$2y$")) {
            return Bcrypt.parse(s);
        }
        if (s.startsWith("$6$") || s.startsWith("$5$")) {
            return ShaCrypt.parse(s);
        }
        if (s.startsWith("$argon2id$") || s.startsWith("$argon2i$")) {
            return Argon2.parse(s);
        }
        if (s.startsWith("$argon2d$")) {
            throw new IllegalArgumentException("argon2d is not for passwords; use argon2id");
        }
        throw new IllegalArgumentException("not a supported hash (bcrypt $2y$, argon2id, SHA-512 crypt $6$, SHA-256"
                + " crypt $5$, optionally with a {SCHEME} prefix)");
    }

    /**
     * bcrypt: {@code $2y$cost$} then 22 characters of salt and 31 of hash.
     *
     * @param version 2a, 2b or 2y (the same algorithm for passwords shorter than 256 bytes)
     * @param cost log2 of the rounds, 4-31
     * @param salt 16 bytes
     * @param hash the first 23 bytes of the output
     */
    record Bcrypt(String version, int cost, byte[] salt, byte[] hash) implements PasswordHash {
        private static final String ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

        static Bcrypt parse(String s) {
            if (s.length() != 60 || s.charAt(6) != '$') {
                throw new IllegalArgumentException("a bcrypt hash has 60 characters ($2y$NN$ + 53)");
            }
            int cost;
            try {
                cost = Integer.parseInt(s.substring(4, 6));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("a bcrypt hash needs a two-digit cost");
            }
            if (cost < 4 || cost > 31) {
                throw new IllegalArgumentException("bcrypt cost " + cost + " is not between 4 and 31");
            }
            byte[] salt = CryptBase64.decode(s.substring(7, 29), ALPHABET, 16);
            byte[] hash = CryptBase64.decode(s.substring(29), ALPHABET, 23);
            if (salt == null || hash == null) {
                throw new IllegalArgumentException("a bcrypt hash has a character outside its alphabet");
            }
            return new Bcrypt(s.substring(1, 3), cost, salt, hash);
        }

        @Override
        public boolean verify(String password) {
            byte[] utf8 = password.getBytes(StandardCharsets.UTF_8);
            // as OpenBSD: the password with its terminating NUL, at most 72 bytes
            byte[] input = new byte[Math.min(72, utf8.length + 1)];
            System.arraycopy(utf8, 0, input, 0, Math.min(utf8.length, input.length));
            byte[] out = BCrypt.generate(input, salt, cost);
            byte[] computed = new byte[23];
            System.arraycopy(out, 0, computed, 0, 23);
            return MessageDigest.isEqual(computed, hash);
        }

        @Override
        public String scheme() {
            return "bcrypt";
        }

        @Override
        public String toString() {
            return "Bcrypt[$" + version + "$, cost=" + cost + "]";
        }
    }

    /**
     * SHA-crypt (Ulrich Drepper's specification, as glibc's crypt(3) and Dovecot's SHA512-CRYPT).
     *
     * @param bits 512 ({@code $6$}) or 256 ({@code $5$})
     * @param rounds 1000-999999999; 5000 unless the hash says {@code rounds=N}
     * @param salt up to 16 bytes
     * @param hash the encoded hash part (86 or 43 characters)
     */
    record ShaCrypt(int bits, int rounds, byte[] salt, String hash) implements PasswordHash {
        static ShaCrypt parse(String s) {
            int bits = s.charAt(1) == '6' ? 512 : 256;
            String rest = s.substring(3);
            int rounds = 5000;
            if (rest.startsWith("rounds=")) {
                int dollar = rest.indexOf('$');
                if (dollar < 0) {
                    throw new IllegalArgumentException("a SHA-crypt hash with rounds= has no salt");
                }
                try {
                    long r = Long.parseLong(rest.substring(7, dollar));
                    rounds = (int) Math.max(1000, Math.min(999_999_999L, r));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("a SHA-crypt hash has a bad rounds= value");
                }
                rest = rest.substring(dollar + 1);
            }
            int dollar = rest.lastIndexOf('$');
            if (dollar < 0) {
                throw new IllegalArgumentException("a SHA-crypt hash needs $salt$hash");
            }
            String salt = rest.substring(0, dollar);
            String hash = rest.substring(dollar + 1);
            if (salt.length() > 16 || salt.indexOf('$') >= 0) {
                throw new IllegalArgumentException("a SHA-crypt salt has at most 16 characters");
            }
            if (hash.length() != (bits == 512 ? 86 : 43)) {
                throw new IllegalArgumentException("a SHA-" + bits + " crypt hash part has " + (bits == 512 ? 86 : 43)
                        + " characters, not " + hash.length());
            }
            return new ShaCrypt(bits, rounds, salt.getBytes(StandardCharsets.UTF_8), hash);
        }

        @Override
        public boolean verify(String password) {
            String computed = ShaCryptAlgorithm.hash(bits, password.getBytes(StandardCharsets.UTF_8), salt, rounds);
            return MessageDigest.isEqual(
                    computed.getBytes(StandardCharsets.US_ASCII), hash.getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public String scheme() {
            return "sha" + bits + "-crypt";
        }

        @Override
        public String toString() {
            return "ShaCrypt[" + scheme() + ", rounds=" + rounds + "]";
        }
    }

    /**
     * Argon2 in the PHC string format.
     *
     * @param type {@link Argon2Parameters#ARGON2_id} or {@link Argon2Parameters#ARGON2_i}
     * @param version 19 (0x13) or 16 (0x10)
     * @param memoryKiB m
     * @param iterations t
     * @param parallelism p
     * @param salt the salt
     * @param hash the expected output
     */
    record Argon2(int type, int version, int memoryKiB, int iterations, int parallelism, byte[] salt, byte[] hash)
            implements PasswordHash {
        /** 4 GiB: more than any sane hash uses; a bigger one in a users file is a mistake, not a password. */
        private static final long MAX_MEMORY_KIB = 4L * 1024 * 1024;

        static Argon2 parse(String s) {
            String[] parts = s.split("\\$", -1);
            // "", type, [v=19], params, salt, hash
            if (parts.length != 5 && parts.length != 6) {
                throw new IllegalArgumentException("an Argon2 hash is $argon2id$v=19$m=..,t=..,p=..$salt$hash");
            }
            int type = parts[1].equals("argon2id") ? Argon2Parameters.ARGON2_id : Argon2Parameters.ARGON2_i;
            int i = 2;
            int version = Argon2Parameters.ARGON2_VERSION_10;
            if (parts[i].startsWith("v=")) {
                version = switch (parts[i]) {
                    case "v=19" -> Argon2Parameters.ARGON2_VERSION_13;
                    case "v=16" -> Argon2Parameters.ARGON2_VERSION_10;
                    default -> throw new IllegalArgumentException("Argon2 version must be 19 or 16");
                };
                i++;
            }
            if (parts.length - i != 3) {
                throw new IllegalArgumentException("an Argon2 hash is $argon2id$v=19$m=..,t=..,p=..$salt$hash");
            }
            long m = -1;
            long t = -1;
            long p = -1;
            for (String param : parts[i].split(",")) {
                int eq = param.indexOf('=');
                String key = eq < 0 ? param : param.substring(0, eq);
                String value = eq < 0 ? "" : param.substring(eq + 1);
                if (!value.matches("\\d{1,10}")) {
                    if (key.equals("keyid") || key.equals("data")) {
                        continue;
                    }
                    throw new IllegalArgumentException("Argon2 parameter " + key + " is not a number");
                }
                switch (key) {
                    case "m" -> m = Long.parseLong(value);
                    case "t" -> t = Long.parseLong(value);
                    case "p" -> p = Long.parseLong(value);
                    default -> {
                        // keyid and data are optional PHC fields that carry nothing for verification here
                    }
                }
            }
            if (t < 1 || t > 1000 || p < 1 || p > 255 || m < 8 * p || m > MAX_MEMORY_KIB) {
                throw new IllegalArgumentException(
                        "Argon2 parameters out of range (t 1-1000, p 1-255, m 8*p KiB to 4 GiB)");
            }
            byte[] salt;
            byte[] hash;
            try {
                salt = Base64.getDecoder().decode(parts[i + 1]);
                hash = Base64.getDecoder().decode(parts[i + 2]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("an Argon2 salt or hash is not base64");
            }
            if (salt.length < 8 || hash.length < 4) {
                throw new IllegalArgumentException("an Argon2 salt has at least 8 bytes and a hash at least 4");
            }
            return new Argon2(type, version, (int) m, (int) t, (int) p, salt, hash);
        }

        @Override
        public boolean verify(String password) {
            Argon2Parameters params = new Argon2Parameters.Builder(type)
                    .withVersion(version)
                    .withMemoryAsKB(memoryKiB)
                    .withIterations(iterations)
                    .withParallelism(parallelism)
                    .withSalt(salt)
                    .build();
            Argon2BytesGenerator generator = new Argon2BytesGenerator();
            generator.init(params);
            byte[] out = new byte[hash.length];
            generator.generateBytes(password.getBytes(StandardCharsets.UTF_8), out);
            return MessageDigest.isEqual(out, hash);
        }

        @Override
        public String scheme() {
            return type == Argon2Parameters.ARGON2_id ? "argon2id" : "argon2i";
        }

        @Override
        public String toString() {
            return "Argon2[" + scheme() + ", m=" + memoryKiB + ", t=" + iterations + ", p=" + parallelism + "]";
        }
    }
}
