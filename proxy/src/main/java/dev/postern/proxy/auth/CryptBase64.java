package dev.postern.proxy.auth;

/** The base-64 variants of crypt(3) hashes: bcrypt's (big-endian groups) and SHA-crypt's (little-endian groups). */
final class CryptBase64 {
    static final String CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private CryptBase64() {}

    /**
     * Decodes {@code text} (bcrypt's order: like standard base64, another alphabet, no padding) into {@code length}
     * bytes; null when a character is outside {@code alphabet} or the text is too short.
     */
    static byte[] decode(String text, String alphabet, int length) {
        byte[] out = new byte[length];
        int bits = 0;
        int buffer = 0;
        int n = 0;
        for (int i = 0; i < text.length() && n < length; i++) {
            int v = alphabet.indexOf(text.charAt(i));
            if (v < 0) {
                return null;
            }
            buffer = (buffer << 6) | v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out[n++] = (byte) (buffer >> bits);
                buffer &= (1 << bits) - 1;
            }
        }
        return n == length ? out : null;
    }

    /** Appends {@code n} characters for the 24-bit group {@code b2 b1 b0}, least significant six bits first. */
    static void from24(StringBuilder out, int b2, int b1, int b0, int n) {
        int w = ((b2 & 0xff) << 16) | ((b1 & 0xff) << 8) | (b0 & 0xff);
        for (int i = 0; i < n; i++) {
            out.append(CRYPT_ALPHABET.charAt(w & 0x3f));
            w >>>= 6;
        }
    }
}
