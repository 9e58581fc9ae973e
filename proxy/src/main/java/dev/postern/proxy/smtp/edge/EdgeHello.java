package dev.postern.proxy.smtp.edge;

import dev.postern.config.Protocol;
import dev.postern.proxy.smtp.EhloKeywords;
import dev.postern.proxy.smtp.MailPath;
import dev.postern.proxy.smtp.SmtpCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * EHLO, HELO and STARTTLS on the edge: the client's name, and the extensions this session offered it, which decide
 * the MAIL and RCPT parameters it may use. Postern offers its own extensions (PIPELINING, SIZE, STARTTLS, ENHANCEDSTATUSCODES) and
 * those of the listener's pool that the edge passes on (8BITMIME, DSN, SMTPUTF8, CHUNKING).
 */
final class EdgeHello {
    private final EdgeSession s;
    /** The client's HELO/EHLO name, null before one. */
    private String name;

    private boolean esmtp;
    /** The EHLO keywords offered to this client. */
    private List<String> offered = List.of();

    EdgeHello(EdgeSession session) {
        this.s = session;
    }

    /** The client's HELO/EHLO name, null before one. */
    String name() {
        return name;
    }

    /** The client said EHLO, not HELO. */
    boolean esmtp() {
        return esmtp;
    }

    boolean offers(String keyword) {
        return EhloKeywords.has(offered, keyword);
    }

    /** RFC 3207: TLS started; everything learned before is forgotten, the client must send EHLO again. */
    void forget() {
        name = null;
        offered = List.of();
    }

    void ehlo(SmtpCommand c, boolean extended) {
        String arg = c.argument().trim();
        if (!validHelo(arg)) {
            s.error("501 5.5.4 Syntax: " + (extended ? "EHLO" : "HELO") + " hostname");
            return;
        }
        // EHLO resets the transaction (RFC 5321, section 4.1.4); a new identity needs a new backend connection
        s.transactions().reset(true);
        name = arg;
        esmtp = extended;
        if (!extended) {
            offered = List.of();
            s.reply("250 " + s.hostname());
            return;
        }
        offered = keywords();
        s.reply(offered.isEmpty() ? "250 " + s.hostname() : "250-" + s.hostname());
        for (int i = 0; i < offered.size(); i++) {
            s.reply((i == offered.size() - 1 ? "250 " : "250-") + offered.get(i));
        }
    }

    void starttls(SmtpCommand c) {
        if (c.hasArgument()) {
            s.error("501 5.5.4 Syntax: STARTTLS");
        } else if (s.secure()) {
            s.error("503 5.5.1 Error: TLS already active");
        } else if (!s.startTlsOffered()) {
            s.error("502 5.5.1 Error: command not implemented");
        } else {
            s.transactions().reset(true);
            s.beginTls("220 2.0.0 Ready to start TLS");
        }
    }

    /** Postern's own extensions, and those of the listener's pool that the edge passes on. */
    private List<String> keywords() {
        List<String> backend = s.listener()
                .pool()
                .flatMap(p -> s.services().capabilities().get(p, Protocol.SMTP))
                .orElse(List.of());
        List<String> out = new ArrayList<>();
        out.add("PIPELINING");
        out.add("SIZE " + s.smtp.maxMessageSize());
        if (s.startTlsOffered()) {
            out.add("STARTTLS");
        }
        out.add("ENHANCEDSTATUSCODES");
        for (String keyword : List.of("8BITMIME", "DSN", "SMTPUTF8", "CHUNKING")) {
            if (EhloKeywords.has(backend, keyword)) {
                out.add(keyword);
            }
        }
        return out;
    }

    private static boolean validHelo(String s) {
        if (s.isEmpty() || s.length() > 255) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            // U+FFFD is what the decoder made of bytes that are not UTF-8: never part of a host name
            if (ch <= 0x20 || ch == 0x7f || ch == '\uFFFD') {
                return false;
            }
        }
        return true;
    }

    /**
     * The parameters this session's EHLO offered (SIZE always); the reply for the first other one in a MAIL ({@code
     * mail}) or RCPT path, or null.
     */
    String unsupported(MailPath path, boolean mail) {
        for (MailPath.Parameter p : path.parameters()) {
            String k = p.keyword();
            boolean ok;
            if (mail) {
                ok = switch (k) {
                    case "SIZE" -> p.value() != null && p.value().matches("[0-9]{1,18}");
                    case "BODY" -> offers("8BITMIME")
                            && p.value() != null
                            && Set.of("7BIT", "8BITMIME").contains(p.value().toUpperCase(Locale.ROOT));
                    case "SMTPUTF8" -> offers("SMTPUTF8") && p.value() == null;
                    case "RET", "ENVID" -> offers("DSN") && p.value() != null;
                    default -> false;
                };
            } else {
                ok = (k.equals("NOTIFY") || k.equals("ORCPT")) && offers("DSN") && p.value() != null;
            }
            if (!ok) {
                return "555 5.5.4 Unsupported option: " + p;
            }
        }
        return null;
    }
}
