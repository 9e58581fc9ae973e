package dev.postern.proxy.smtp;

import java.util.function.Predicate;

/**
 * MAIL and RCPT as the {@link TransactionSession}s (the edge, LMTP) read them and pass them on, and the replies they
 * share: the syntax of the {@code FROM:} and {@code TO:} arguments, the paths, and the commands a backend gets.
 */
public final class Envelope {
    public static final String MAIL_SYNTAX = "501 5.5.4 Syntax: MAIL FROM:<address>";
    public static final String BAD_SENDER = "501 5.1.7 Bad sender address syntax";
    public static final String NESTED_MAIL = "503 5.5.1 Error: nested MAIL command";
    public static final String SENDER_OK = "250 2.1.0 Ok";
    public static final String RCPT_SYNTAX = "501 5.5.4 Syntax: RCPT TO:<address>";
    public static final String BAD_RECIPIENT = "501 5.1.3 Bad recipient address syntax";
    public static final String NEED_MAIL = "503 5.5.1 Error: need MAIL command";
    public static final String TOO_MANY_RECIPIENTS = "452 4.5.3 Error: too many recipients";
    public static final String TOO_BIG = "552 5.3.4 Error: message size exceeds fixed limit";
    public static final String UNAVAILABLE = "451 4.4.1 Error: mail server unavailable; try again later";

    private Envelope() {}

    /** The argument of MAIL after {@code FROM:}, or null when it does not start so (answer {@link #MAIL_SYNTAX}). */
    public static String from(SmtpCommand mail) {
        return after(mail, "FROM:");
    }

    /** The argument of RCPT after {@code TO:}, or null when it does not start so (answer {@link #RCPT_SYNTAX}). */
    public static String to(SmtpCommand rcpt) {
        return after(rcpt, "TO:");
    }

    private static String after(SmtpCommand c, String prefix) {
        String arg = c.argument();
        return arg.regionMatches(true, 0, prefix, 0, prefix.length()) ? arg.substring(prefix.length()) : null;
    }

    /** The reverse path and parameters of {@link #from}, or null when malformed (answer {@link #BAD_SENDER}). */
    public static MailPath sender(String from) {
        try {
            return MailPath.parse(from, true, false);
        } catch (MailPath.SyntaxException e) {
            return null;
        }
    }

    /** The forward path and parameters of {@link #to}, or null when malformed (answer {@link #BAD_RECIPIENT}). */
    public static MailPath recipient(String to) {
        try {
            return MailPath.parse(to, false, true);
        } catch (MailPath.SyntaxException e) {
            return null;
        }
    }

    /** {@code MAIL FROM:} as a backend gets it: the path as forwarded, and the parameters {@code kept}. */
    public static String mail(MailPath sender, Predicate<MailPath.Parameter> kept) {
        return command("MAIL FROM:", sender, kept);
    }

    /** {@code RCPT TO:} as a backend gets it: the path as forwarded, and its parameters. */
    public static String rcpt(MailPath recipient) {
        return command("RCPT TO:", recipient, p -> true);
    }

    private static String command(String head, MailPath path, Predicate<MailPath.Parameter> kept) {
        StringBuilder line = new StringBuilder(head).append(path.path());
        for (MailPath.Parameter p : path.parameters()) {
            if (kept.test(p)) {
                line.append(' ').append(p);
            }
        }
        return line.toString();
    }
}
