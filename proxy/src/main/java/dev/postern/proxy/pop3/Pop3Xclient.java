package dev.postern.proxy.pop3;

import dev.postern.proxy.session.Session;
import dev.postern.proxy.smtp.Xtext;
import java.net.InetSocketAddress;

/**
 * The XCLIENT command that tells a POP3 backend who the client really is. Dovecot's pop3-login takes it from
 * {@code login_trusted_networks} (and says so with {@code [XCLIENT]} in its greeting, not in CAPA); it reads ADDR,
 * PORT, SESSION, TTL and FORWARD. Postern sends ADDR, PORT and SESSION, so Dovecot's log names the client's address
 * and Postern's session id.
 */
final class Pop3Xclient {
    private Pop3Xclient() {}

    /** Dovecot's pop3-login XCLIENT: ADDR, PORT and SESSION (its log then names the client and Postern's session). */
    static String command(Session session) {
        StringBuilder sb = new StringBuilder("XCLIENT");
        InetSocketAddress client = session.clientAddress();
        if (client != null && client.getAddress() != null) {
            String address = client.getAddress().getHostAddress();
            int scope = address.indexOf('%');
            sb.append(" ADDR=").append(xtext(scope < 0 ? address : address.substring(0, scope)));
            sb.append(" PORT=").append(client.getPort());
        }
        sb.append(" SESSION=").append(xtext(session.id()));
        return sb.toString();
    }

    /** RFC 3461 xtext, as SMTP's XCLIENT writes it. */
    static String xtext(String value) {
        return Xtext.encode(value);
    }
}
