package dev.postern.proxy.smtp;

import java.nio.charset.StandardCharsets;

/**
 * RFC 3461 xtext (section 4), the encoding of XCLIENT attribute values for SMTP and POP3 backends alike: the UTF-8
 * bytes {@code !} to {@code ~} as they are except {@code +} and {@code =}; any other byte as {@code +HH}.
 */
public final class Xtext {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Xtext() {}

    /** {@code value} as xtext. */
    public static String encode(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length + 8);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= '!' && c <= '~' && c != '+' && c != '=') {
                sb.append((char) c);
            } else {
                sb.append('+').append(HEX[c >> 4]).append(HEX[c & 0xf]);
            }
        }
        return sb.toString();
    }
}
