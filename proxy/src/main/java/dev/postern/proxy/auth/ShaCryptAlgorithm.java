package dev.postern.proxy.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 and SHA-512 crypt, as specified by Ulrich Drepper ("Unix crypt using SHA-256 and SHA-512"). */
final class ShaCryptAlgorithm {
    /** The byte order in which SHA-512 crypt encodes its 64 bytes, three at a time (then byte 63 alone). */
    private static final int[] ORDER_512 = {
        0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4, 47, 5, 26, 6, 27, 48, 28, 49, 7, 50, 8, 29, 9, 30, 51,
        31, 52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13, 56, 14, 35, 15, 36, 57, 37, 58, 16, 59, 17, 38, 18, 39, 60, 40,
        61, 19, 62, 20, 41
    };
    /** The byte order in which SHA-256 crypt encodes its 32 bytes, three at a time (then bytes 31 and 30). */
    private static final int[] ORDER_256 = {
        0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14, 15, 25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29
    };

    private ShaCryptAlgorithm() {}

    /** The encoded hash part (after the last {@code $}) for {@code password}, {@code salt} and {@code rounds}. */
    static String hash(int bits, byte[] password, byte[] salt, int rounds) {
        MessageDigest md = digest(bits == 512 ? "SHA-512" : "SHA-256");
        int len = bits / 8;

        md.update(password);
        md.update(salt);
        md.update(password);
        byte[] b = md.digest();

        md.update(password);
        md.update(salt);
        int pl = password.length;
        for (int i = pl; i > 0; i -= len) {
            md.update(b, 0, Math.min(i, len));
        }
        for (int i = pl; i > 0; i >>= 1) {
            if ((i & 1) != 0) {
                md.update(b);
            } else {
                md.update(password);
            }
        }
        byte[] a = md.digest();

        for (int i = 0; i < pl; i++) {
            md.update(password);
        }
        byte[] dp = md.digest();
        byte[] p = repeat(dp, pl);

        for (int i = 0; i < 16 + (a[0] & 0xff); i++) {
            md.update(salt);
        }
        byte[] ds = md.digest();
        byte[] s = repeat(ds, salt.length);

        byte[] c = a;
        for (int i = 0; i < rounds; i++) {
            if ((i & 1) != 0) {
                md.update(p);
            } else {
                md.update(c);
            }
            if (i % 3 != 0) {
                md.update(s);
            }
            if (i % 7 != 0) {
                md.update(p);
            }
            if ((i & 1) != 0) {
                md.update(c);
            } else {
                md.update(p);
            }
            c = md.digest();
        }

        StringBuilder out = new StringBuilder(bits == 512 ? 86 : 43);
        int[] order = bits == 512 ? ORDER_512 : ORDER_256;
        for (int i = 0; i < order.length; i += 3) {
            CryptBase64.from24(out, c[order[i]], c[order[i + 1]], c[order[i + 2]], 4);
        }
        if (bits == 512) {
            CryptBase64.from24(out, 0, 0, c[63], 2);
        } else {
            CryptBase64.from24(out, 0, c[31], c[30], 3);
        }
        return out.toString();
    }

    private static byte[] repeat(byte[] block, int length) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) {
            out[i] = block[i % block.length];
        }
        return out;
    }

    private static MessageDigest digest(String name) {
        try {
            return MessageDigest.getInstance(name);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(name + " is part of every JDK", e);
        }
    }
}
