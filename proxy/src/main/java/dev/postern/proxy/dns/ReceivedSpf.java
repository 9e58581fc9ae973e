package dev.postern.proxy.dns;

import io.netty.util.NetUtil;
import java.util.regex.Pattern;

/**
 * The {@code Received-SPF} header (RFC 7208 section 9.1) that an SMTP session prepends to a message under the {@code
 * annotate} and {@code reject} policies:
 *
 * <pre>
 * Received-SPF: pass (postern: domain of x@example.test designates 192.0.2.1 as permitted sender)
 *  client-ip=192.0.2.1; envelope-from="x@example.test"; helo=mx.example.test;
 * </pre>
 *
 * <p>The values come from the client (MAIL FROM, HELO) and from DNS (a problem quoting a record): control characters
 * are dropped, quotes, backslashes and parentheses escaped, and each value cut at {@value #MAX_VALUE} characters, so
 * nothing a client sends can end the header or add one.
 */
public final class ReceivedSpf {
    /** The header name. */
    public static final String NAME = "Received-SPF";

    /** The longest value copied from the client or DNS. */
    static final int MAX_VALUE = 256;

    /** RFC 5322 recommends lines of at most 78 characters. */
    private static final int LINE = 78;

    private static final Pattern DOT_ATOM =
            Pattern.compile("[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*");

    private ReceivedSpf() {}

    /** The header on one line, without the line break: {@code Received-SPF: pass (receiver: ...) client-ip=...;}. */
    public static String header(SpfResult result, String receiver) {
        // RFC 5952 text for IPv6 (2001:db8::1), as receivers and people write it
        String ip = NetUtil.toAddressString(result.clientIp());
        String sender = clean(result.sender());
        StringBuilder h = new StringBuilder(200);
        h.append(NAME).append(": ").append(result.verdict().token());
        h.append(" (").append(comment(clean(receiver))).append(": ");
        h.append(comment(explanation(result, sender, ip))).append(')');
        h.append(" client-ip=").append(value(ip)).append(';');
        h.append(" envelope-from=").append(quoted(clean(result.mailFrom()))).append(';');
        h.append(" helo=").append(value(clean(result.helo()))).append(';');
        if (result.identity() == SpfResult.Identity.HELO) {
            h.append(" identity=helo;");
        }
        if (result.problem().isPresent()
                && (result.verdict() == SpfVerdict.PERMERROR || result.verdict() == SpfVerdict.TEMPERROR)) {
            h.append(" problem=").append(quoted(clean(result.problem().get()))).append(';');
        }
        return h.toString();
    }

    /**
     * The header as lines of a message: folded before spaces so that lines stay within 78 characters where a space
     * allows, each line ending in CRLF.
     */
    public static String folded(SpfResult result, String receiver) {
        String header = header(result, receiver);
        StringBuilder out = new StringBuilder(header.length() + 16);
        int lineStart = 0;
        int lastSpace = -1;
        for (int i = 0; i < header.length(); i++) {
            if (header.charAt(i) == ' ' && i > NAME.length() + 1) {
                if (i - lineStart > LINE && lastSpace > lineStart) {
                    out.append(header, lineStart, lastSpace).append("\r\n");
                    lineStart = lastSpace;
                }
                lastSpace = i;
            }
        }
        if (header.length() - lineStart > LINE && lastSpace > lineStart) {
            out.append(header, lineStart, lastSpace).append("\r\n");
            lineStart = lastSpace;
        }
        return out.append(header, lineStart, header.length()).append("\r\n").toString();
    }

    private static String explanation(SpfResult r, String sender, String ip) {
        String problem = r.problem().map(ReceivedSpf::clean).orElse("unknown problem");
        switch (r.verdict()) {
            case PASS:
                return "domain of " + sender + " designates " + ip + " as permitted sender";
            case FAIL:
                return "domain of " + sender + " does not designate " + ip + " as permitted sender";
            case SOFTFAIL:
                return "domain of transitioning " + sender + " does not designate " + ip + " as permitted sender";
            case NEUTRAL:
                return ip + " is neither permitted nor denied by domain of " + sender;
            case NONE:
                return "domain of " + sender + " does not designate permitted sender hosts";
            case TEMPERROR:
                return "error in processing during lookup of " + sender + ": " + problem;
            default:
                return "permanent error in processing domain of " + sender + ": " + problem;
        }
    }

    /** A dot-atom when the text is one, else a quoted-string. */
    private static String value(String text) {
        return DOT_ATOM.matcher(text).matches() ? text : quoted(text);
    }

    private static String quoted(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.append('"').toString();
    }

    private static String comment(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '(' || c == ')' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }

    /** Without control characters (CR and LF above all), at most {@value #MAX_VALUE} characters. */
    private static String clean(String text) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_VALUE));
        for (int i = 0; i < text.length() && out.length() < MAX_VALUE; i++) {
            char c = text.charAt(i);
            if (c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0)) {
                out.append(c);
            }
        }
        return out.toString();
    }
}
