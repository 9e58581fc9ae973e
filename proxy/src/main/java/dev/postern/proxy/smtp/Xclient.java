package dev.postern.proxy.smtp;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;

/**
 * Builds the XCLIENT command (Postfix's XCLIENT_README, also spoken by Dovecot) that tells a backend who the real
 * client is. Only the attributes the backend lists in its {@code XCLIENT} EHLO keyword are sent; values are
 * {@link Xtext}.
 */
final class Xclient {
    private Xclient() {}

    /**
     * The XCLIENT command line, or null when the backend supports none of the attributes.
     *
     * @param supported the attribute names the backend lists (upper case)
     * @param client the client's address
     * @param helo the client's EHLO argument, or null
     * @param login the user name, or null
     */
    static String command(List<String> supported, InetSocketAddress client, String helo, String login) {
        return command(supported, client, helo, login, "ESMTP");
    }

    /**
     * The XCLIENT command line with {@code proto} ({@code SMTP} after HELO, {@code ESMTP} after EHLO), or null when the
     * backend supports none of the attributes.
     */
    static String command(List<String> supported, InetSocketAddress client, String helo, String login, String proto) {
        StringBuilder sb = new StringBuilder("XCLIENT");
        int attributes = 0;
        InetAddress address = client == null ? null : client.getAddress();
        if (address != null && supported.contains("ADDR")) {
            attributes += append(sb, "ADDR", address(address));
        }
        if (client != null && supported.contains("PORT")) {
            attributes += append(sb, "PORT", Integer.toString(client.getPort()));
        }
        if (supported.contains("NAME")) {
            // Postern does no reverse lookup; Postfix then does its own checks with the address
            attributes += append(sb, "NAME", "[UNAVAILABLE]");
        }
        if (helo != null && !helo.isEmpty() && supported.contains("HELO")) {
            attributes += append(sb, "HELO", helo);
        }
        if (login != null && !login.isEmpty() && supported.contains("LOGIN")) {
            attributes += append(sb, "LOGIN", login);
        }
        if (supported.contains("PROTO")) {
            attributes += append(sb, "PROTO", proto);
        }
        return attributes == 0 ? null : sb.toString();
    }

    private static int append(StringBuilder sb, String name, String value) {
        sb.append(' ').append(name).append('=').append(Xtext.encode(value));
        return 1;
    }

    /** An address as XCLIENT wants it: dotted IPv4, or {@code IPV6:} and the IPv6 text form. */
    static String address(InetAddress address) {
        String text = address.getHostAddress();
        int scope = text.indexOf('%');
        if (scope >= 0) {
            text = text.substring(0, scope);
        }
        return address instanceof Inet6Address ? "IPV6:" + text.toLowerCase(Locale.ROOT) : text;
    }
}
